// The encoder's per-module dynamics (experiments/encoder/dynamics.ts) on the real model and real
// sentences: the init invariants at step 0 (init-a: Z_B = 0; init-b: Z_A = 0), RMS(Z_B) from the Gram
// identity equal to the RMS of Z_A·Bᵀ formed directly, and the δ decomposition after a known change
// of one module's B (the module's input does not move, so δ¹ = δ³ = 0 and δ² = RMS(Z_B)).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { getPath, setPath, type Params } from "../src/core/tree.ts";
import { disposeTree, read, refTree, tensor, type Tensor } from "../src/engine/index.ts";
import { batchOf, bucketFor, logitsOf } from "../src/models/use-lite/classifier.ts";
import { dynamicsRecorder, meanOverModules } from "../src/experiments/encoder/dynamics.ts";
import { cacheExamples, taskData, withHead } from "../src/experiments/encoder/finetune.ts";
import { encoderLoraConfig } from "../src/experiments/encoder/spec.ts";
import { scaling } from "../src/lora/config.ts";
import { injectLora } from "../src/lora/inject.ts";
import { context as loraContext } from "../src/lora/linear.ts";
import { loadUseLite } from "../src/models/use-lite/index.ts";

const model = await loadUseLite();
const data = taskData({ task: "sentiment", seed: 0, limit: 8, evalLimit: 8 });
const val = cacheExamples(model, data.validation);
const Q = "layers.0.attention.q_proj"; // its input, LN(x0), does not depend on any adapter

async function adapted(init: "init-a" | "init-b"): Promise<{ params: Params; s: number }> {
  const cfg = encoderLoraConfig({ r: 8, loraAlpha: 8, init });
  const inj = await injectLora(prng.key(5), withHead(refTree(model.params), 0, 2), cfg);
  return { params: inj.params, s: scaling(cfg) };
}

test("step 0: init-a has Z_A ≠ 0 and Z_B = 0 in every module; init-b has both 0", async () => {
  for (const init of ["init-a", "init-b"] as const) {
    const { params, s } = await adapted(init);
    const rows = await dynamicsRecorder(val, 8, model.constants, s).record(0, params);
    assert.equal(rows.length, 12); // q/k/v/o_proj, fc1, fc2 in two layers
    for (const r of rows) {
      assert.equal(r.rmsZB, 0, `${init} ${r.module}`);
      if (init === "init-a") assert.ok(r.rmsZA > 0.01, `${r.module} ${r.rmsZA}`);
      else assert.equal(r.rmsZA, 0);
      assert.ok(Number.isNaN(r.delta1) && Number.isNaN(r.delta2) && Number.isNaN(r.delta3));
    }
    disposeTree(params);
  }
});

test("after a known change of one B: RMS(Z_B) matches Z_A·Bᵀ formed directly, δ¹ = δ³ = 0, δ² = RMS(Z_B)", async () => {
  const { params, s } = await adapted("init-a");
  const rec = dynamicsRecorder(val, 8, model.constants, s);
  await rec.record(0, params);
  const b = getPath(params, `${Q}.lora_B.weight`) as Tensor;
  const [out, r] = b.shape as [number, number];
  const newB = tensor(prng.normal(prng.key(9), [out * r]).map((v) => 0.05 * v), [out, r]);
  const changed = setPath(params, `${Q}.lora_B.weight`, newB);
  b.dispose();
  const rows = await rec.record(1, changed);
  const q = rows.find((x) => x.module === Q);
  assert.ok(q !== undefined);

  // Z_B of q_proj straight from the tap, over the same real tokens of the same batch.
  let direct: number;
  {
    const idx = [...Array(8).keys()];
    const lengths = idx.map((i) => (val.rows[i] as Float32Array).length / 256);
    const L = bucketFor(Math.max(...lengths));
    const { x, mask, weight } = batchOf(val, idx, 8);
    weight.dispose();
    let zb: Tensor | undefined;
    const ctx = loraContext({
      scaling: s,
      tap: (path, name, t) => (path === Q && name === "Z_B" ? (zb = t) : t.dispose()),
    });
    logitsOf(refTree(changed), x, mask, model.constants, ctx).dispose();
    const all = await read(zb as Tensor); // [8, L, out]
    (zb as Tensor).dispose();
    let sum = 0;
    let count = 0;
    lengths.forEach((n, bIdx) => {
      for (let t = 0; t < n; t++) {
        for (let j = 0; j < out; j++) {
          const v = all[(bIdx * L + t) * out + j] as number;
          sum += v * v;
          count++;
        }
      }
    });
    direct = Math.sqrt(sum / count);
  }
  // float32 device products vs float64 host Gram sums: agree to ~1e-6 relative.
  assert.ok(Math.abs(q.rmsZB - direct) <= 1e-5 * direct, `${q.rmsZB} vs ${direct}`);
  assert.equal(q.delta1, 0); // B_{t−1} = 0 under init-a
  assert.equal(q.delta3, 0); // ΔZ_A = 0: A and the module's input are unchanged
  assert.ok(Math.abs(q.delta2 - q.rmsZB) <= 1e-12 * q.rmsZB, `${q.delta2} vs ${q.rmsZB}`);
  // Downstream modules see a moved input: their ΔZ_A is not 0.
  const o = rows.find((x) => x.module === "layers.0.attention.o_proj");
  assert.ok(o !== undefined && o.delta1 === 0 && o.delta2 === 0 && o.rmsZB === 0);
  assert.ok(rows.some((x) => x.module.startsWith("layers.1.") && x.rmsZA > 0));
  const means = meanOverModules(rows);
  assert.equal(means.length, 1);
  assert.ok(Math.abs((means[0]?.rmsZB as number) - q.rmsZB / 12) <= 1e-12);
  disposeTree(changed);
});
