// Generation: greedy decoding of stories260K against llama2.c's text (test/fixtures/lm/stories260k.json,
// scripts/fixtures/make_stories260k_fixtures.py), seeded nucleus sampling, streaming text that never
// splits a character, and an adapter merged for decoding giving the unmerged forward's greedy tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as prng from "../src/core/prng.ts";
import { UserError } from "../src/core/errors.ts";
import { disposeTree, initEngine, refTree } from "../src/engine/index.ts";
import { loadLm, mergedWeights, requireTokenizer, withAdapter } from "../src/io/lm-model.ts";
import { loadAdapter, saveAdapter } from "../src/io/peft.ts";
import { loraConfig, scaling } from "../src/lora/config.ts";
import { injectLora } from "../src/lora/inject.ts";
import { context } from "../src/lora/linear.ts";
import { generate, TextStream } from "../src/models/generate.ts";
import { argmax, sampleToken } from "../src/models/sample.ts";
import { LM_FIXTURES } from "./support/lm-fixture.ts";

interface Stories { greedy: { ids: number[]; text: string } }
const fixture = JSON.parse(readFileSync(path.join(LM_FIXTURES, "stories260k.json"), "utf8")) as Stories;
const LLAMA2C_START = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

const greedy = { temperature: 0, topP: 1, seed: 0 };

test("greedy decoding from BOS on stories260K gives llama2.c's tokens and text", async () => {
  const m = await loadLm("stories260K");
  const tok = requireTokenizer(m, "the test");
  const prompt = tok.encode("");
  assert.deepEqual(prompt, [1], "an empty prompt is the BOS token");
  const want = fixture.greedy.ids.slice(1);
  const streamed: string[] = [];
  const stream = new TextStream(tok, prompt);
  const out = await generate(m.params, m.config, prompt, {
    ...greedy,
    maxNewTokens: want.length,
    eosId: tok.eosId,
    onToken: (id) => streamed.push(stream.push(id)),
  });
  streamed.push(stream.flush());
  disposeTree(m.params);
  assert.deepEqual(out.tokens, want);
  assert.equal(out.finish, "length");
  assert.equal(stream.text(), fixture.greedy.text);
  assert.ok(stream.text().startsWith(LLAMA2C_START));
  assert.equal(streamed.join(""), stream.text(), "the streamed pieces add up to the text");
});

test("a prompt is continued after its last token; too long a request is one sentence", async () => {
  const m = await loadLm("stories260K");
  const tok = requireTokenizer(m, "the test");
  // The first 10 tokens of the greedy story as the prompt: greedy decoding goes on as from BOS.
  const prompt = fixture.greedy.ids.slice(0, 10);
  const out = await generate(m.params, m.config, prompt, { ...greedy, maxNewTokens: 8, eosId: tok.eosId });
  assert.deepEqual(out.tokens, fixture.greedy.ids.slice(10, 18));
  await assert.rejects(
    generate(m.params, m.config, prompt, { ...greedy, maxNewTokens: 510, eosId: tok.eosId }),
    (e: unknown) => e instanceof UserError && /10 tokens plus 510 new ones exceed the model's 512 positions/.test(e.message),
  );
  disposeTree(m.params);
});

test("sampling is deterministic per seed, differs across seeds, and stops at EOS", async () => {
  const m = await loadLm("stories260K");
  const tok = requireTokenizer(m, "the test");
  const run = (seed: number, eosId = tok.eosId) =>
    generate(m.params, m.config, [1], { temperature: 1, topP: 0.9, seed, maxNewTokens: 40, eosId });
  const [a, b, c] = [await run(1), await run(1), await run(2)];
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  assert.notDeepEqual(a.tokens, fixture.greedy.ids.slice(1, 41), "temperature 1 is not greedy");
  // stories260K ends a story with BOS, as llama2.c's training data does, never with its EOS </s>; the
  // stop is checked with "." (id 426) standing in for EOS: the same draws up to the first full stop.
  const dot = tok.tokenToId(".") as number;
  const first = a.tokens.indexOf(dot);
  assert.ok(first > 0, "a sentence ends within 40 tokens");
  const stopped = await run(1, dot);
  disposeTree(m.params);
  assert.equal(stopped.finish, "eos");
  assert.deepEqual(stopped.tokens, a.tokens.slice(0, first + 1), "stops after the EOS token, which is kept");
});

test("sampleToken: argmax at temperature 0, the nucleus only, frequencies as the renormalized softmax", () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  assert.equal(argmax([1, 3, 3, 2]), 1, "ties go to the lowest id");
  assert.equal(sampleToken(logits, { temperature: 0, topP: 0.5 }, 0.99), 0);
  assert.equal(sampleToken(logits, { temperature: 1, topP: 0.01 }, 0.99), 0, "a tiny nucleus is the top token");
  // topP 0.8 keeps {0, 1} (0.5 + 0.3 reaches 0.8): probabilities 0.625 and 0.375.
  const n = 20000;
  const u = prng.uniform(prng.key(5), [n]);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) (counts[sampleToken(logits, { temperature: 1, topP: 0.8 }, u[i] as number)] as number)++;
  assert.deepEqual(counts.slice(2), [0, 0], "tokens outside the nucleus are never drawn");
  // 4 standard deviations of a binomial(20000, 0.625) share: 4·√(0.625·0.375/20000) ≈ 0.014.
  assert.ok(Math.abs((counts[0] as number) / n - 0.625) < 0.014, `share of token 0: ${(counts[0] as number) / n}`);
  // Temperature 2 flattens: p ∝ √p₀ over the full nucleus.
  const sq = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
  const z = sq.reduce((s, v) => s + v, 0);
  const hot = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) (hot[sampleToken(logits, { temperature: 2, topP: 1 }, u[i] as number)] as number)++;
  for (let k = 0; k < 4; k++) assert.ok(Math.abs((hot[k] as number) / n - (sq[k] as number) / z) < 0.014, `token ${k}`);
});

test("streaming never splits a multi-byte character", async () => {
  const m = await loadLm("stories260K");
  const tok = requireTokenizer(m, "the test");
  disposeTree(m.params);
  const text = "naïve café 🍕 漢字";
  const ids = tok.encode(text);
  const stream = new TextStream(tok, ids.slice(0, 1));
  const pieces = ids.slice(1).map((id) => stream.push(id));
  pieces.push(stream.flush());
  assert.ok(pieces.every((p) => !p.includes("\uFFFD")), JSON.stringify(pieces));
  assert.ok(pieces.filter((p) => p === "").length >= 3, "the byte-fallback pieces are held back");
  assert.equal(pieces.join(""), text);
});

test("an adapter merged for decoding gives the unmerged forward's greedy tokens", async () => {
  await initEngine();
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-gen-adapter-"));
  try {
    const m = await loadLm("stories260K");
    // Both factors random ("none"), so B·A ≠ 0 and the adapter changes the text.
    const config = loraConfig({
      r: 4, lora_alpha: 16, target_modules: ["q_proj", "v_proj", "up_proj"], init_lora_weights: "none", init_std: 0.3,
    });
    const injected = await injectLora(prng.key(4), refTree(m.params), config);
    await saveAdapter(dir, injected.params, config);
    disposeTree(injected.params);
    const adapter = await loadAdapter(dir);
    const opts = { ...greedy, maxNewTokens: 40, eosId: undefined };
    const unmergedParams = withAdapter(refTree(m.params), adapter, dir, "stories260K");
    const ctx = context({ scaling: scaling(adapter.config) });
    const unmerged = await generate(unmergedParams, m.config, [1], { ...opts, ctx });
    const mergedParams = mergedWeights(refTree(m.params), adapter, dir, "stories260K");
    const merged = await generate(mergedParams, m.config, [1], opts);
    const base = await generate(m.params, m.config, [1], opts);
    disposeTree(unmergedParams);
    disposeTree(mergedParams);
    disposeTree(m.params);
    assert.deepEqual(merged.tokens, unmerged.tokens);
    assert.notDeepEqual(merged.tokens, base.tokens, "the adapter changes the greedy text");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
