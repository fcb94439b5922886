// Merging: ΔW = s·B·A, merged forward = unmerged forward, unmerge restores W*.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { flatten, getPath, type Params } from "../src/core/tree.ts";
import { initEngine, read, tensor, disposeTree, refTree, type Tensor } from "../src/engine/index.ts";
import * as mlp from "../src/nn/mlp.ts";
import { loraConfig, scaling } from "../src/lora/config.ts";
import { context } from "../src/lora/linear.ts";
import { injectLora } from "../src/lora/inject.ts";
import { deltaWeight, merge, unmerge, isLoraPath } from "../src/lora/merge.ts";
import { maxAbsDiff } from "./support/reference.ts";

before(async () => {
  await initEngine();
});

// `none` gives B·A ≠ 0, so merging really changes W (with a zero product the tests could not fail).
const c = loraConfig({ r: 3, lora_alpha: 6, target_modules: ["layers.0", "layers.1"], init_lora_weights: "none" });
const s = scaling(c);
const x = (): Tensor => tensor(prng.normal(prng.key(4), [7, 5]), [7, 5]);

async function injected(): Promise<Params> {
  return (await injectLora(prng.key(2), mlp.init(prng.key(1), { sizes: [5, 6, 3] }), c)).params;
}

test("deltaWeight = s·B·A [out, in], computed on the host for comparison", async () => {
  const p = await injected();
  const mod = getPath(p, "layers.0") as Params;
  const dw = deltaWeight(mod, s);
  assert.deepEqual(dw.shape, [6, 5]);
  const A = await read(getPath(p, "layers.0.lora_A.weight") as Tensor); // [3,5]
  const B = await read(getPath(p, "layers.0.lora_B.weight") as Tensor); // [6,3]
  const got = await read(dw);
  for (let o = 0; o < 6; o++) {
    for (let i = 0; i < 5; i++) {
      let want = 0;
      for (let k = 0; k < 3; k++) want += s * (B[o * 3 + k] as number) * (A[k * 5 + i] as number);
      assert.ok(Math.abs((got[o * 5 + i] as number) - want) < 1e-6);
    }
  }
  dw.dispose();
  disposeTree(p);
});

test("merged forward (W only) equals the unmerged LoRA forward to 1e-5; unmerge restores W* to 1e-6", async () => {
  const p = await injected();
  const w0 = await read(getPath(p, "layers.0.weight") as Tensor);
  const ctx = context({ scaling: s });
  const yLora = mlp.apply(refTree(p), x(), ctx);
  const merged = merge(p, s);
  assert.ok(flatten(merged.params).every(([path]) => !isLoraPath(path)), "a merged tree carries no factors");
  assert.equal(flatten(merged.adapter).length, 4);
  const wMerged = await read(getPath(merged.params, "layers.0.weight") as Tensor);
  assert.ok(wMerged.some((v, i) => Math.abs(v - (w0[i] as number)) > 1e-3), "merging changed W");
  const yMerged = mlp.apply(refTree(merged.params), x()); // no LoRA context needed
  assert.ok((await maxAbsDiff(yMerged, yLora)) < 1e-5);
  const back = unmerge(merged, s);
  const w1 = await read(getPath(back, "layers.0.weight") as Tensor);
  for (let i = 0; i < w0.length; i++) assert.ok(Math.abs((w1[i] as number) - (w0[i] as number)) < 1e-6);
  const yBack = mlp.apply(back, x(), ctx);
  assert.ok((await maxAbsDiff(yBack, yLora)) < 1e-5);
  for (const t of [yLora, yMerged, yBack]) t.dispose();
});
