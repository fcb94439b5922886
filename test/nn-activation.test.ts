// nn/activation: the same values as jax-js's activations, and gradients equal to autodiff through
// jax-js's own functions (eagerly and under jit), with no leaked buffers; engine/profile reports kernels.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import {
  initEngine, np, jnn, jit, grad, tensor, read, trackAllocations, liveBuffers, profileKernels, type Tensor,
} from "../src/engine/index.ts";
import { relu, tanh, gelu, silu } from "../src/nn/activation.ts";

before(async () => {
  await initEngine();
  await trackAllocations();
});

// Values spread over [-4.5, 4.5] plus exact 0 and large magnitudes (gelu's e^{2u} overflows to ∞ there).
const XS = [...Array.from({ length: 61 }, (_, i) => -4.5 + 0.15 * i), 0, 30, -30];
const x = (): Tensor => tensor(Float32Array.from(XS), [XS.length]);
const W = Float32Array.from(XS, (_, i) => Math.cos(1.3 * i)); // weights so each element's gradient differs

const pairs: [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor][] = [
  ["relu", relu, (t) => jnn.relu(t)],
  ["tanh", tanh, (t) => np.tanh(t)],
  ["gelu", gelu, (t) => jnn.gelu(t)],
  // x·σ(x) with σ = ½(1 + tanh(x/2)) differentiated by autodiff: jnn.sigmoid divides, and eager grad
  // through a division leaks a buffer in jax-js 0.1.25, which the leak check below would blame on silu.
  ["silu", silu, (t) => t.ref.mul(np.tanh(t.mul(0.5)).add(1).mul(0.5))],
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const isZero = XS.map((v) => Math.fround(v) === 0);

for (const [name, ours, theirs] of pairs) {
  test(`${name}: values and gradients equal jax-js's, eager and jit`, async () => {
    const before = liveBuffers();
    const [a, b] = [ours(x()), theirs(x())];
    // gelu: written ½x(1+t) rather than jax-js's (x·½)(1+t), so float32 rounding may differ (≤ ~1 ulp of 4.5).
    assert.ok(maxAbsDiff(await read(a), await read(b)) <= 1e-6, `${name} values`);
    a.dispose();
    b.dispose();
    type Loss = (t: Tensor, w: Tensor) => Tensor;
    const lossOf = (f: (t: Tensor) => Tensor): Loss => (t, w) => f(t).mul(w).sum(); // Σ wᵢ f(xᵢ)
    const w = (): Tensor => tensor(W, [W.length]);
    const gradients = async (g: Loss): Promise<Float32Array> => {
      const out = g(x(), w());
      const d = await read(out);
      out.dispose();
      return d;
    };
    for (const jitted of [false, true]) {
      const [gOurs, gTheirs] = [grad(lossOf(ours)), grad(lossOf(theirs))].map((g) => (jitted ? jit(g) : g)) as [
        Loss,
        Loss,
      ];
      const [da, db] = [await gradients(gOurs), await gradients(gTheirs)];
      // relu'(0): ours is 0 (PyTorch's and JAX's convention), jax-js 0.1.25's autodiff gives 1; compare elsewhere.
      if (name === "relu")
        isZero.forEach((z, i) => {
          if (z) {
            assert.ok(da[i] === 0, "relu'(0)");
            da[i] = db[i] as number;
          }
        });
      // ≤ 2e-6: gelu's derivative is written out (a different float32 evaluation order than autodiff).
      assert.ok(maxAbsDiff(da, db) <= 2e-6, `${name} gradients differ by ${maxAbsDiff(da, db)}`);
      assert.ok(da.some((v) => v !== 0), `${name} gradient is all zero`);
      if (!jitted) {
        assert.equal(liveBuffers(), before, `${name} leaked buffers (eager)`);
        continue;
      }
      // jit keeps the stop-gradient's zero cotangent as a compiled constant (once per compile, not
      // per call), so under jit the check is that a second call leaves the count unchanged.
      const compiled = liveBuffers();
      await gradients(gOurs);
      assert.equal(liveBuffers(), compiled, `${name} leaks buffers per jitted call`);
    }
  });
}

test("profileKernels reports each dispatched kernel with a duration", async () => {
  const f = jit((t: Tensor) => np.matmul(t.ref, t.transpose()).sum()); // [64,64]·[64,64] → scalar
  const t = tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)), [64, 64]);
  const { result, kernels } = await profileKernels(async () => {
    const y = f(t.ref);
    const v = await read(y);
    y.dispose();
    return v[0];
  });
  t.dispose();
  assert.ok(Number.isFinite(result));
  assert.ok(kernels.length >= 1, "no kernels recorded");
  assert.ok(
    kernels.some((k) => k.reduction.startsWith("Add:64")),
    `no 64-long sum among ${kernels.map((k) => k.reduction).join(", ")}`,
  );
  for (const k of kernels) assert.ok(k.ms >= 0);
});

test("silu equals x/(1 + e^−x) computed on the host", async () => {
  const got = await read(silu(x()));
  // ≤ 1e-6 absolute: float32 rounding of values up to 30 in magnitude is ~2e-6 relative to them.
  XS.forEach((v, i) => assert.ok(Math.abs((got[i] as number) - v / (1 + Math.exp(-v))) <= 1e-6 * Math.max(1, Math.abs(v)), `silu(${v})`));
});
