// The bundled stories260K run by lorascope (`loadLm("stories260K")`: converted in memory, the model
// every LM command uses) against transformers 5.18 on the converted folder
// (scripts/fixtures/make_stories260k_fixtures.py → test/fixtures/lm/stories260k.json): the logits and
// mean NLL on a fixed text, and the greedy continuation from BOS, which the fixture script checked
// against llama2.c's run.c at temperature 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { np, read, readAndDispose, readScalar, refTree } from "../src/engine/index.ts";
import { loadLm } from "../src/io/lm-model.ts";
import { causalLmLoss, decoder, logits } from "../src/models/lm.ts";
import fixture from "./fixtures/lm/stories260k.json" with { type: "json" };

// float32 vs float32 with different summation orders (measured ≤ 2e-6 here); 1e-4 relative, the
// project's reference tolerance for fixtures, leaves room for other SIMD widths.
const TOL = 1e-4;

const rel = (got: number, want: number): number => Math.abs(got - want) / Math.max(Math.abs(want), 1e-12);

test("stories260K: logits per position and the mean NLL equal transformers'", async () => {
  const m = await loadLm("stories260K");
  const ids = fixture.nll.ids;
  const T = ids.length;
  const idsT = () => np.array(Int32Array.from(ids)).reshape([1, T]);
  const out = logits(refTree(m.params), idsT(), m.config); // [1, T, V]
  const V = m.config.vocabSize;
  const z = await read(out.ref);
  let worst = 0;
  for (let t = 0; t < T; t++) {
    const row = z.subarray(t * V, (t + 1) * V);
    const first = fixture.nll.logitsFirst[t] as number[];
    first.forEach((w, j) => (worst = Math.max(worst, Math.abs((row[j] as number) - w) / 10)));
    const sum = row.reduce((a, b) => a + b, 0);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
    assert.ok(rel(sum, fixture.nll.logitSum[t] as number) < TOL, `logit sum at ${t}: ${sum}`);
    assert.ok(rel(lse, fixture.nll.logsumexp[t] as number) < TOL, `logsumexp at ${t}: ${lse}`);
    assert.equal(row.indexOf(max), fixture.nll.argmax[t], `argmax at ${t}`);
  }
  // Logits are O(10): an absolute error of 1e-3 is 1e-4 of the scale.
  assert.ok(worst < TOL, `first logits: error ${worst} relative to a scale of 10`);
  const { loss, count } = causalLmLoss(out, idsT());
  assert.equal(await readScalar(count), T - 1);
  const nll = await readScalar(loss);
  assert.ok(rel(nll, fixture.nll.meanNll) < TOL, `mean NLL ${nll} vs ${fixture.nll.meanNll}`);
  // The test can fail: a perturbed model is far off.
  assert.ok(rel(nll * 1.001, fixture.nll.meanNll) > TOL);
});

test("stories260K: the greedy continuation from BOS is llama2.c's", async () => {
  const m = await loadLm("stories260K");
  const want = fixture.greedy.ids; // BOS then 60 tokens
  const length = want.length;
  const dec = decoder(m.config, length);
  const bos = np.array(Int32Array.from([want[0] as number])).reshape([1, 1]);
  let { logits: z, cache } = dec.prefill(refTree(m.params), bos);
  const got = [want[0] as number];
  for (let pos = 1; pos < length; pos++) {
    const row = await readAndDispose(z);
    const next = row.indexOf(Math.max(...row));
    got.push(next);
    if (pos === length - 1) break;
    ({ logits: z, cache } = dec.step(refTree(m.params), cache, np.array(Int32Array.from([next])).reshape([1, 1]), pos));
  }
  for (const t of [...cache.k, ...cache.v]) t.dispose();
  dec.dispose();
  assert.deepEqual(got, want);
  const text = m.tokenizer?.decode(got, { skipSpecialTokens: true }) ?? "";
  assert.ok(text.startsWith("Once upon a time, there was a little girl named Lily. She loved to play outside in the park."), text);
});
