// The text tokenizer of a Hugging Face folder (tokenizer.json + tokenizer_config.json through
// @huggingface/tokenizers), on the stories260K folder lorascope writes: ids and text must equal
// transformers' AutoTokenizer on the same folder (scripts/fixtures/make_stories260k_fixtures.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { writeHfLlama } from "../src/io/convert-llama2c.ts";
import { loadStories260K } from "../src/io/stories260k.ts";
import { loadTokenizer, tokenizerFromJson } from "../src/models/tokenizer.ts";
import fixture from "./fixtures/lm/stories260k.json" with { type: "json" };

const folder = path.join(await mkdtemp(path.join(tmpdir(), "lorascope-tok-")), "stories260K");
await writeHfLlama(folder, loadStories260K());

test("loadTokenizer: ids and decoded text equal transformers' AutoTokenizer", async () => {
  const tok = await loadTokenizer(folder);
  assert.equal(tok.bosId, 1);
  assert.equal(tok.eosId, 2);
  assert.equal(tok.idToToken(403), "▁Once");
  assert.equal(tok.tokenToId("<0x0A>"), 13);
  for (const s of fixture.strings) {
    assert.deepEqual(tok.encode(s.text), s.ids, `ids of ${JSON.stringify(s.text)}`);
    assert.equal(tok.decode(s.ids), s.decoded, `decode of ${JSON.stringify(s.text)}`);
    assert.equal(tok.decode(s.ids, { skipSpecialTokens: true }), s.decodedSkipSpecial);
  }
  // BOS comes from the post-processor: without special tokens the ids are the same minus the first.
  const s = fixture.strings[1] as { text: string; ids: number[] };
  assert.deepEqual(tok.encode(s.text, { addSpecialTokens: false }), s.ids.slice(1));
  assert.deepEqual(tok.encode(fixture.nll.text), fixture.nll.ids);
});

test("decode honours clean_up_tokenization_spaces from tokenizer_config.json", async () => {
  const json = JSON.parse(await readFile(path.join(folder, "tokenizer.json"), "utf8")) as Record<string, unknown>;
  const config = JSON.parse(await readFile(path.join(folder, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(config["clean_up_tokenization_spaces"], false);
  const text = "Yes , she said . Wait !";
  const exact = tokenizerFromJson(json, config);
  const ids = exact.encode(text);
  assert.equal(exact.decode(ids, { skipSpecialTokens: true }), text);
  const cleaned = tokenizerFromJson(json, { ...config, clean_up_tokenization_spaces: true });
  assert.equal(cleaned.decode(ids, { skipSpecialTokens: true }), "Yes, she said. Wait!");
});

test("a folder without tokenizer.json, or with a broken one, is one sentence", async () => {
  const empty = await mkdtemp(path.join(tmpdir(), "lorascope-notok-"));
  await assert.rejects(loadTokenizer(empty), (e: unknown) =>
    e instanceof UserError && e.message === `${path.join(empty, "tokenizer.json")} does not exist; a model folder needs a tokenizer.json to turn text into token ids`);
  await writeFile(path.join(empty, "tokenizer.json"), "{ not json");
  await assert.rejects(loadTokenizer(empty), (e: unknown) => e instanceof UserError && /tokenizer\.json is not valid JSON/.test(e.message));
  await writeFile(path.join(empty, "tokenizer.json"), JSON.stringify({ model: { type: "NoSuchModel" } }));
  await assert.rejects(loadTokenizer(empty), (e: unknown) => e instanceof UserError && /tokenizer\.json is not a tokenizer the tokenizers library can run/.test(e.message));
  await rm(empty, { recursive: true });
});
