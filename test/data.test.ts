// The real-data loaders (sentiment sentences, SpamAssassin) read their pinned package files, and
// stratified splits are balanced, disjoint, complete and reproducible from the seed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import * as prng from "../src/core/prng.ts";
import { loadSentiment, loadSpam, messageText, stratifiedSplit } from "../src/data/index.ts";

test("sentiment: 3 × 1,000 balanced sentences, trimmed, without the trailing empty entries", () => {
  const ds = loadSentiment();
  assert.equal(ds.examples.length, 3000);
  for (const d of ["imdb", "yelp", "amazon"]) {
    const rows = ds.examples.filter((e) => e.source === d);
    assert.equal(rows.length, 1000);
    assert.equal(rows.filter((e) => e.label === 1).length, 500);
  }
  assert.ok(ds.examples.every((e) => e.text.length > 0 && e.text === e.text.trim()));
  assert.equal(
    ds.examples[0]?.text,
    "A very, very, very slow-moving, aimless movie about a distressed, drifting young man.",
  );
  assert.equal(loadSentiment(["yelp"]).examples.length, 1000);
  assert.throws(() => loadSentiment(["imbd" as never]), UserError);
});

test("spam: 6,046 messages, 4,150 ham / 1,896 spam, subject + body without headers", () => {
  const ds = loadSpam();
  assert.equal(ds.examples.length, 6046);
  assert.equal(ds.examples.filter((e) => e.label === 1).length, 1896);
  assert.equal(ds.examples.filter((e) => e.source === "hard-ham-1").length, 250);
  assert.ok(ds.examples.every((e) => e.text.startsWith("Subject: ") && e.text.length <= 2000));
  assert.ok(!ds.examples.some((e) => /^Received: /m.test(e.text)), "headers are dropped");
  assert.equal(
    messageText("From: a\nSubject:  Hi there\n\n<p>Buy <b>now</b></p>\n\n\tplease"),
    "Subject: Hi there Buy now please",
  );
});

test("stratified splits: disjoint, complete, class-balanced, reproducible by seed", () => {
  const ds = loadSentiment();
  const a = stratifiedSplit(prng.key(7), ds.examples, 2);
  const b = stratifiedSplit(prng.key(7), ds.examples, 2);
  const c = stratifiedSplit(prng.key(8), ds.examples, 2);
  assert.deepEqual(a.sizes, {
    train: 2400,
    validation: 300,
    test: 300,
    perLabel: { train: [1200, 1200], validation: [150, 150], test: [150, 150] },
  });
  assert.deepEqual(a.test, b.test);
  assert.notDeepEqual(a.test, c.test);
  const seen = new Set([...a.train, ...a.validation, ...a.test]);
  assert.equal(seen.size, 3000);
  assert.equal(a.validation.filter((e) => e.label === 1).length, 150);
  assert.throws(() => stratifiedSplit(prng.key(1), ds.examples, 2, { validation: 0.6, test: 0.4 }), UserError);
});
