// nn/mlp: PEFT-style paths, forward against a float64 reference, gradients against central differences.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { flatten, type Params } from "../src/core/tree.ts";
import { initEngine, read, valueAndGrad, np, type Tensor } from "../src/engine/index.ts";
import * as mlp from "../src/nn/mlp.ts";
import {
  assertGradClose, centralDifferences, halfSquaredError, linearRef, randomM, toTensor, vecTensor, type M,
} from "./support/reference.ts";

before(async () => {
  await initEngine();
});

test("init names layers layers.0, layers.1, … with PyTorch shapes", () => {
  const p = mlp.init(prng.key(0), { sizes: [5, 7, 3] });
  assert.deepEqual(
    flatten(p).map(([k, t]) => `${k}:${t.shape.join("x")}`),
    ["layers.0.weight:7x5", "layers.0.bias:7", "layers.1.weight:3x7", "layers.1.bias:3"],
  );
  for (const [, t] of flatten(p)) t.dispose();
  assert.throws(() => mlp.init(prng.key(0), { sizes: [5] }), /at least two sizes/);
});

interface HostMlp {
  w: M[];
  b: Float64Array[];
}

function mlpRef(p: HostMlp, x: M): M {
  let h = x;
  p.w.forEach((w, i) => {
    h = linearRef(h, w, p.b[i]);
    if (i + 1 < p.w.length) h = { ...h, d: h.d.map(Math.tanh) };
  });
  return h;
}

test("tanh MLP: forward matches float64 and gradients match central differences for every parameter and x", async () => {
  const k = prng.key(4);
  const sizes = [4, 6, 5, 3];
  const n = 3;
  const host: HostMlp = { w: [], b: [] };
  for (let i = 0; i + 1 < sizes.length; i++) {
    host.w.push(randomM(prng.fold(k, `w${i}`), sizes[i + 1] as number, sizes[i] as number, 0.7));
    host.b.push(Float64Array.from(prng.normal(prng.fold(k, `b${i}`), [sizes[i + 1] as number], 0.3)));
  }
  const x = randomM(prng.fold(k, "x"), n, 4);
  const t = randomM(prng.fold(k, "t"), n, 3);
  const hostLoss = (): number => halfSquaredError(mlpRef(host, x), t);
  const fdW = host.w.map((w) => centralDifferences(w.d, hostLoss));
  const fdB = host.b.map((b) => centralDifferences(b, hostLoss));
  const fdX = centralDifferences(x.d, hostLoss);

  const layers: Params = {};
  host.w.forEach((w, i) => (layers[String(i)] = { weight: toTensor(w), bias: vecTensor(host.b[i] as Float64Array) }));
  const loss = (p: { model: Params; x: Tensor }, tt: Tensor): Tensor =>
    np
      .square(np.subtract(mlp.apply(p.model, p.x, undefined, "tanh"), tt))
      .sum()
      .mul(0.5);
  const [value, g] = valueAndGrad(loss)({ model: { layers }, x: toTensor(x) }, toTensor(t));
  const v = (await read(value))[0] as number;
  assert.ok(Math.abs(v - hostLoss()) < 1e-4 * (1 + hostLoss()), `loss ${v} vs ${hostLoss()}`);
  const grads = new Map(flatten(g.model));
  for (let i = 0; i < host.w.length; i++) {
    await assertGradClose(grads.get(`layers.${i}.weight`) as Tensor, fdW[i] as Float64Array, `dL/dW${i}`);
    await assertGradClose(grads.get(`layers.${i}.bias`) as Tensor, fdB[i] as Float64Array, `dL/db${i}`);
  }
  await assertGradClose(g.x, fdX, "dL/dx");
  value.dispose();
  g.x.dispose();
  for (const t2 of grads.values()) t2.dispose();
});
