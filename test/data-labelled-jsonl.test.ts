// The user's own data folder (--data): sorted class list, and one sentence naming the file and line
// for each kind of bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { loadLabelledJsonl } from "../src/data/labelled-jsonl.ts";

const line = (text: string, label: unknown): string => JSON.stringify({ text, label }) + "\n";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lorascope-data-"));
  const base = { "train.jsonl": line("a", "pos") + line("b", "neg") + "\n", "valid.jsonl": line("c", "neg"), "test.jsonl": line("d", "pos") };
  for (const [name, text] of Object.entries({ ...base, ...files })) writeFileSync(path.join(dir, name), text);
  return dir;
}

const oneSentence = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes("\n");

test("the example folder loads: three sorted classes, every split", () => {
  const d = loadLabelledJsonl(path.resolve(import.meta.dirname, "../examples/data"));
  assert.deepEqual(d.labels, ["cooking", "sports", "weather"]);
  assert.deepEqual([d.train.length, d.validation.length, d.test.length], [27, 9, 9]);
  assert.equal(d.labels[d.train[0]?.label ?? -1], "sports"); // "The coach benched two starters…"
});

test("numeric labels sort as numbers; strings by code point", () => {
  const d = loadLabelledJsonl(folder({ "train.jsonl": line("a", 10) + line("b", 9) + line("c", 2), "valid.jsonl": line("x", 9), "test.jsonl": line("y", 10) }));
  assert.deepEqual(d.labels, ["2", "9", "10"]);
  assert.deepEqual(d.validation.map((e) => e.label), [1]);
});

test("bad folders are one sentence naming the file and line", () => {
  assert.throws(() => loadLabelledJsonl(folder({ "test.jsonl": line("d", "pos") + line("e", "meh") })), oneSentence(/test\.jsonl:2 has the label "meh", which train\.jsonl never uses; the labels are neg, pos/));
  assert.throws(() => loadLabelledJsonl(folder({ "valid.jsonl": "{not json\n" })), oneSentence(/valid\.jsonl:1 is not valid JSON/));
  assert.throws(() => loadLabelledJsonl(folder({ "valid.jsonl": line("", "pos") })), oneSentence(/valid\.jsonl:1 needs a non-empty string "text"/));
  assert.throws(() => loadLabelledJsonl(folder({ "train.jsonl": line("a", "pos") + line("b", ["x"]) })), oneSentence(/train\.jsonl:2 needs a "label" that is a string or a number/));
  assert.throws(() => loadLabelledJsonl(folder({ "test.jsonl": "\n\n" })), oneSentence(/test\.jsonl holds no examples/));
  assert.throws(() => loadLabelledJsonl(folder({ "train.jsonl": line("a", "pos") })), oneSentence(/has only one label \(pos\)/));
  assert.throws(() => loadLabelledJsonl(path.join(os.tmpdir(), "no-such-lorascope-data")), oneSentence(/train\.jsonl does not exist; --data needs train\.jsonl, valid\.jsonl and test\.jsonl/));
});
