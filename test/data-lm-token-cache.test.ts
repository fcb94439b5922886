// The on-disk token cache: a second read of the same text with the same tokenizer key tokenizes
// nothing and gives the same sequences; another key, another seqLen or changed text tokenizes again;
// a damaged entry is tokenized again and rewritten.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadLmTextCached } from "../src/data/lm-token-cache.ts";
import { loadLmText } from "../src/data/lm-text.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-token-cache-"));
const file = path.join(dir, "notes.txt");
await writeFile(file, "the quick brown fox jumps over the lazy dog\n".repeat(5));

/** A byte tokenizer that counts its calls. */
function counting(): { encode(text: string): number[]; calls: number } {
  const t = {
    calls: 0,
    encode(text: string): number[] {
      t.calls++;
      return [1, ...[...text].map((c) => c.charCodeAt(0) % 200)];
    },
  };
  return t;
}

const arrays = (s: { sequences: readonly Int32Array[] }): number[][] => s.sequences.map((x) => [...x]);

test("a cached text is read back without tokenizing; the key, seqLen and text each make a new entry", () => {
  const cache = { dir: path.join(dir, "cache"), tokenizerKey: "tok-1" };
  const tok = counting();
  const opts = { seqLen: 16, vocabSize: 256, tokenizer: tok };
  const first = loadLmTextCached(file, opts, cache);
  assert.equal(tok.calls, 1);
  assert.deepEqual(arrays(first), arrays(loadLmText(file, { ...opts, tokenizer: counting() })), "the same sequences as without a cache");
  const second = loadLmTextCached(file, opts, cache);
  assert.equal(tok.calls, 1, "read from the cache");
  assert.deepEqual(arrays(second), arrays(first));
  assert.equal(second.tokens, first.tokens);
  assert.equal(second.description, first.description);
  loadLmTextCached(file, opts, { ...cache, tokenizerKey: "tok-2" });
  assert.equal(tok.calls, 2, "another tokenizer's ids are not reused");
  loadLmTextCached(file, { ...opts, seqLen: 8 }, cache);
  assert.equal(tok.calls, 3, "another seqLen");
  loadLmTextCached(file, { ...opts, split: "validation" }, cache);
  assert.equal(tok.calls, 3, "a file has no splits: training and validation share its entry");
});

test("changed text or a damaged entry is tokenized again", async () => {
  const cache = { dir: path.join(dir, "cache2"), tokenizerKey: "tok" };
  const tok = counting();
  const opts = { seqLen: 16, vocabSize: 256, tokenizer: tok };
  const first = loadLmTextCached(file, opts, cache);
  const ids = (await readdir(cache.dir)).find((f) => f.endsWith(".i32")) as string;
  await truncate(path.join(cache.dir, ids), 8);
  const again = loadLmTextCached(file, opts, cache);
  assert.equal(tok.calls, 2, "the damaged entry was not used");
  assert.deepEqual(arrays(again), arrays(first));
  loadLmTextCached(file, opts, cache);
  assert.equal(tok.calls, 2, "and was rewritten whole");
  const other = path.join(dir, "other.txt");
  await writeFile(other, "a different text altogether\n");
  loadLmTextCached(other, opts, cache);
  assert.equal(tok.calls, 3);
});
