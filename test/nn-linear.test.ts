// nn/linear: PyTorch's default init, x·Wᵀ + b on [..., in] inputs, and gradients against float64
// central differences (tolerance in test/support/reference.ts).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { initEngine, read, tensor, valueAndGrad, np, type Tensor } from "../src/engine/index.ts";
import * as linear from "../src/nn/linear.ts";
import {
  assertGradClose, centralDifferences, halfSquaredError, linearRef, randomM, toTensor, vecTensor,
} from "./support/reference.ts";

before(async () => {
  await initEngine();
});

test("init: shapes, PyTorch bounds ±1/√in for weight and bias, std 1/√(3·in), bias optional", async () => {
  const p = linear.init(prng.key(1), 512, 256);
  assert.deepEqual(p.weight.shape, [256, 512]);
  assert.ok(p.bias !== undefined);
  assert.deepEqual(p.bias.shape, [256]);
  const w = await read(p.weight);
  const b = await read(p.bias);
  const bound = 1 / Math.sqrt(512);
  assert.ok(w.every((v) => Math.abs(v) <= bound) && b.every((v) => Math.abs(v) <= bound));
  let q = 0;
  for (const v of w) q += v * v;
  const std = Math.sqrt(q / w.length);
  const want = 1 / Math.sqrt(3 * 512);
  assert.ok(Math.abs(std - want) < 5 * want / Math.sqrt(w.length), `std ${std} vs ${want}`);
  p.weight.dispose();
  p.bias.dispose();
  const nb = linear.init(prng.key(1), 4, 3, { bias: false });
  assert.equal(nb.bias, undefined);
  const again = linear.init(prng.key(1), 4, 3);
  assert.deepEqual(await read(nb.weight), await read(again.weight), "same key, same weight, with or without bias");
  nb.weight.dispose();
  again.weight.dispose();
  again.bias?.dispose();
});

test("apply: x [2,3,in] → [2,3,out] equals x·Wᵀ + b", async () => {
  const k = prng.key(2);
  const x = randomM(prng.fold(k, "x"), 6, 5);
  const w = randomM(prng.fold(k, "w"), 4, 5);
  const b = Float64Array.from(prng.normal(prng.fold(k, "b"), [4]));
  const y = linear.apply({ weight: toTensor(w), bias: vecTensor(b) }, toTensor(x).reshape([2, 3, 5]));
  assert.deepEqual(y.shape, [2, 3, 4]);
  const got = await read(y);
  const want = linearRef(x, w, b).d;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs((got[i] as number) - (want[i] as number)) < 1e-5);
  y.dispose();
});

test("apply refuses a module with LoRA factors when no LoRA context is given", () => {
  const p = {
    weight: tensor([1, 2], [1, 2]),
    lora_A: { weight: tensor([0, 0], [1, 2]) },
    lora_B: { weight: tensor([0], [1, 1]) },
  };
  assert.throws(() => linear.apply(p, tensor([1, 1], [1, 2])), /has LoRA factors/);
});

test("gradients w.r.t. weight, bias and x match float64 central differences", async () => {
  const k = prng.key(3);
  const [n, nIn, nOut] = [3, 5, 4];
  const x = randomM(prng.fold(k, "x"), n, nIn);
  const w = randomM(prng.fold(k, "w"), nOut, nIn);
  const b = Float64Array.from(prng.normal(prng.fold(k, "b"), [nOut]));
  const t = randomM(prng.fold(k, "t"), n, nOut);
  const hostLoss = (): number => halfSquaredError(linearRef(x, w, b), t);
  const fdW = centralDifferences(w.d, hostLoss);
  const fdB = centralDifferences(b, hostLoss);
  const fdX = centralDifferences(x.d, hostLoss);

  const target = toTensor(t);
  const loss = (p: { weight: Tensor; bias: Tensor; x: Tensor }, tt: Tensor): Tensor =>
    np.square(np.subtract(linear.apply({ weight: p.weight, bias: p.bias }, p.x), tt)).sum().mul(0.5);
  const [value, g] = valueAndGrad(loss)({ weight: toTensor(w), bias: vecTensor(b), x: toTensor(x) }, target);
  const v = (await read(value))[0] as number;
  assert.ok(Math.abs(v - hostLoss()) < 1e-4 * (1 + hostLoss()));
  await assertGradClose(g.weight, fdW, "dL/dW");
  await assertGradClose(g.bias, fdB, "dL/db");
  await assertGradClose(g.x, fdX, "dL/dx");
  for (const tt of [value, g.weight, g.bias, g.x]) tt.dispose();
});
