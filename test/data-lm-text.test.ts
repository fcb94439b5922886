// Sequences for language modelling from .txt, .jsonl and the built-in corpora, with a byte-level
// stand-in tokenizer (id 1 = BOS, byte b = id b + 3, vocabulary 259), and every bad input refused
// with one sentence.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { brownSplits } from "../src/data/brown.ts";
import { blocks, loadLmText, type LmTokenizer } from "../src/data/lm-text.ts";
import { sotuSplits } from "../src/data/sotu.ts";

const BOS = 1;
const VOCAB = 259;
const bytes: LmTokenizer = { encode: (t) => [BOS, ...Array.from(Buffer.from(t, "utf8"), (b) => b + 3)] };
const noBos: LmTokenizer = { encode: (t) => Array.from(Buffer.from(t, "utf8"), (b) => b + 3) };
const dir = mkdtempSync(path.join(tmpdir(), "lm-text-"));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
const opts = { seqLen: 8, vocabSize: VOCAB, tokenizer: bytes };
const refused = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test("blocks: seqLen tokens sharing one at each seam, so every token after the first is a target once", () => {
  const ids = Array.from({ length: 20 }, (_, i) => i);
  const b = blocks(ids, 8);
  assert.deepEqual(
    b.map((x) => Array.from(x)),
    [
      [0, 1, 2, 3, 4, 5, 6, 7],
      [7, 8, 9, 10, 11, 12, 13, 14],
      [14, 15, 16, 17, 18, 19],
    ],
  );
  const targets = b.flatMap((x) => Array.from(x).slice(1));
  assert.deepEqual(targets, ids.slice(1));
  // A remainder of one new token still makes a block of two; a lone token makes none.
  assert.deepEqual(blocks(ids.slice(0, 9), 8).map((x) => x.length), [8, 2]);
  assert.deepEqual(blocks([5], 8), []);
});

test(".txt: the whole file tokenized once (BOS first), cut into blocks", () => {
  const text = "The cat sat on the mat.\nIt was warm.";
  const r = loadLmText(file("story.txt", text), opts);
  const stream = bytes.encode(text);
  assert.equal(r.sequences[0]?.[0], BOS);
  assert.equal(r.sequences.length, Math.ceil((stream.length - 1) / 7));
  assert.ok(r.sequences.every((s) => s.length >= 2 && s.length <= 8));
  assert.deepEqual([BOS, ...r.sequences.flatMap((s) => Array.from(s).slice(1))], stream);
  assert.equal(r.tokens, r.sequences.reduce((n, s) => n + s.length, 0));
  assert.equal(r.truncated, 0);
});

test(".jsonl: text lines are one sequence each, truncated and counted; input_ids need no tokenizer", () => {
  const f = file("mixed.jsonl", ['{"text": "hi"}', "", '{"text": "a much longer line"}', '{"input_ids": [1, 5, 258]}', '{"input_ids": [7]}', ""].join("\n"));
  const r = loadLmText(f, opts);
  assert.deepEqual(r.sequences.map((s) => Array.from(s)), [bytes.encode("hi"), bytes.encode("a much longer line").slice(0, 8), [1, 5, 258]]);
  assert.equal(r.truncated, 1);
  assert.equal(r.dropped, 1, "a one-token line has nothing to predict");
  const ids = loadLmText(file("ids.jsonl", '{"input_ids": [3, 4, 5]}\n{"input_ids": [6, 7]}\n'), { seqLen: 8, vocabSize: VOCAB });
  assert.equal(ids.sequences.length, 2);
});

test("bad input: one UserError sentence each", () => {
  assert.throws(() => loadLmText(path.join(dir, "nope.txt"), opts), refused(/nope\.txt cannot be read \(ENOENT\)/));
  assert.throws(() => loadLmText(dir + "/", { ...opts }), refused(/neither a \.txt or \.jsonl file nor a built-in corpus \(sotu, brown, brown:news/));
  assert.throws(() => loadLmText(file("empty.txt", ""), opts), refused(/empty\.txt is empty/));
  assert.throws(() => loadLmText(file("blank.jsonl", "\n\n"), opts), refused(/blank\.jsonl is empty/));
  assert.throws(() => loadLmText(file("one.txt", "x"), { ...opts, tokenizer: noBos }), refused(/one\.txt gives no sequence of at least two tokens/));
  assert.throws(() => loadLmText(file("short.jsonl", '{"input_ids": [4]}\n'), opts), refused(/no sequence of at least two tokens/));
  assert.throws(() => loadLmText(file("bad.jsonl", '{"text": "ok"}\n{"text": "unclosed\n'), opts), refused(/bad\.jsonl line 2 is not valid JSON/));
  assert.throws(() => loadLmText(file("neither.jsonl", '{"txt": "typo"}\n'), opts), refused(/line 1 must have exactly one of "text" or "input_ids", it has neither/));
  assert.throws(() => loadLmText(file("both.jsonl", '{"text": "a", "input_ids": [1, 2]}\n'), opts), refused(/it has both/));
  assert.throws(() => loadLmText(file("arr.jsonl", "[1, 2]\n"), opts), refused(/it has neither/));
  assert.throws(() => loadLmText(file("num.jsonl", '{"text": 5}\n'), opts), refused(/"text" that is not a string/));
  assert.throws(() => loadLmText(file("str.jsonl", '{"input_ids": "1 2"}\n'), opts), refused(/"input_ids" that is not a list of integers/));
  assert.throws(() => loadLmText(file("needs.txt", "hello"), { seqLen: 8, vocabSize: VOCAB }), refused(/needs\.txt holds text, so it needs the model's tokenizer, and none was given/));
  assert.throws(() => loadLmText(file("needs.jsonl", '{"input_ids": [2, 3]}\n{"text": "hi"}\n'), { seqLen: 8, vocabSize: VOCAB }), refused(/line 2 holds text/));
  assert.throws(() => loadLmText("sotu", { seqLen: 8, vocabSize: VOCAB }), refused(/the built-in corpus sotu holds text/));
  assert.throws(() => loadLmText(file("range.jsonl", '{"input_ids": [2, 259]}\n'), opts), refused(/line 1 has token id 259 at position 1, outside the model's vocabulary \[0, 259\)/));
  assert.throws(() => loadLmText(file("neg.jsonl", '{"input_ids": [-1, 2]}\n'), opts), refused(/token id -1 at position 0/));
  assert.throws(() => loadLmText(file("float.jsonl", '{"input_ids": [2, 2.5]}\n'), opts), refused(/token id 2\.5 at position 1/));
  assert.throws(() => loadLmText(file("big.txt", "é"), { ...opts, vocabSize: 100 }), refused(/big\.txt has token id 198 at position 1, outside/));
  assert.throws(() => loadLmText(file("ok.txt", "abc"), { ...opts, seqLen: 1 }), refused(/sequence length must be an integer of at least 2, got 1/));
  assert.throws(() => loadLmText("brown:sports", opts), refused(/"sports" is not a Brown corpus genre/));
});

test("built-in corpora: the requested split's documents, each its own stream with BOS", () => {
  const docs = sotuSplits().validation;
  const r = loadLmText("sotu", { seqLen: 256, vocabSize: VOCAB, tokenizer: bytes, split: "validation" });
  assert.equal(r.description, "sotu (validation, 20 documents)");
  const perDoc = docs.map((d) => Buffer.byteLength(d.text, "utf8") + 1); // bytes + BOS
  assert.equal(r.sequences.length, perDoc.reduce((n, len) => n + Math.ceil((len - 1) / 255), 0));
  assert.equal(r.sequences.filter((s) => s[0] === BOS).length, docs.length, "one BOS per document, none mid-document");
  const news = loadLmText("brown:news", { seqLen: 1024, vocabSize: VOCAB, tokenizer: bytes, split: "test" });
  const newsDocs = brownSplits("news").test;
  assert.equal(news.description, "brown:news (test, 4 documents)");
  assert.equal(news.tokens - news.sequences.length + newsDocs.length, newsDocs.reduce((n, d) => n + Buffer.byteLength(d.text) + 1, 0), "blocks overlap by one token");
  assert.equal(loadLmText("brown", { seqLen: 4096, vocabSize: VOCAB, tokenizer: bytes }).description, "brown (train, 407 documents)");
});
