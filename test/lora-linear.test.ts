// The LoRA linear map y = x·W*ᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ: forward and gradients against float64
// references, the tap, dropout on the adapter input only, and composition through nn/linear.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { initEngine, read, valueAndGrad, np, type Tensor } from "../src/engine/index.ts";
import * as linear from "../src/nn/linear.ts";
import { at } from "../src/nn/context.ts";
import * as dropout from "../src/nn/dropout.ts";
import { context } from "../src/lora/linear.ts";
import {
  assertGradClose, centralDifferences, halfSquaredError, linearRef, loraLinearRef, randomM, toTensor, vecTensor,
} from "./support/reference.ts";

before(async () => {
  await initEngine();
});

const k = prng.key(11);
const [n, nIn, nOut, r] = [3, 6, 5, 2];
const s = 2.5;
const x = randomM(prng.fold(k, "x"), n, nIn);
const w = randomM(prng.fold(k, "w"), nOut, nIn);
const b = Float64Array.from(prng.normal(prng.fold(k, "b"), [nOut]));
const a = randomM(prng.fold(k, "a"), r, nIn, 0.5);
const bb = randomM(prng.fold(k, "bb"), nOut, r, 0.5);
const t = randomM(prng.fold(k, "t"), n, nOut);

test("gradients w.r.t. A, B and x match float64 central differences (W*, b frozen)", async () => {
  const hostLoss = (): number => halfSquaredError(loraLinearRef(x, w, b, a, bb, s), t);
  const fdA = centralDifferences(a.d, hostLoss);
  const fdB = centralDifferences(bb.d, hostLoss);
  const fdX = centralDifferences(x.d, hostLoss);
  const ctx = context({ scaling: s });
  // Trainable factors and x are differentiated; W* and b come in as a separate, frozen argument.
  const loss = (p: { A: Tensor; B: Tensor; x: Tensor }, frozen: { W: Tensor; b: Tensor }, tt: Tensor): Tensor => {
    const module = { weight: frozen.W, bias: frozen.b, lora_A: { weight: p.A }, lora_B: { weight: p.B } };
    const y = linear.apply(module, p.x, at(ctx, "proj")); // [n, out]
    return np.square(np.subtract(y, tt)).sum().mul(0.5);
  };
  const [value, g] = valueAndGrad(loss)(
    { A: toTensor(a), B: toTensor(bb), x: toTensor(x) },
    { W: toTensor(w), b: vecTensor(b) },
    toTensor(t),
  );
  const v = (await read(value))[0] as number;
  assert.ok(Math.abs(v - hostLoss()) < 1e-4 * (1 + hostLoss()), `loss ${v} vs ${hostLoss()}`);
  await assertGradClose(g.A, fdA, "dL/dA");
  await assertGradClose(g.B, fdB, "dL/dB");
  await assertGradClose(g.x, fdX, "dL/dx");
  for (const tt of [value, g.A, g.B, g.x]) tt.dispose();
});

test("the tap records Z_A = x·Aᵀ and Z_B = Z_A·Bᵀ per module path; plain modules pass through", async () => {
  const seen: Array<{ path: string; name: string; z: Tensor }> = [];
  const ctx = context({ scaling: s, tap: (path, name, z) => seen.push({ path, name, z }) });
  const model = {
    enc: { weight: toTensor(w), bias: vecTensor(b), lora_A: { weight: toTensor(a) }, lora_B: { weight: toTensor(bb) } },
    plain: { weight: toTensor(randomM(prng.fold(k, "p"), 2, nOut)) },
  };
  const h = linear.apply(model.enc, toTensor(x), at(ctx, "enc"));
  const y = linear.apply(model.plain, h, at(ctx, "plain"));
  assert.deepEqual(y.shape, [n, 2]);
  assert.deepEqual(
    seen.map((e) => `${e.path}:${e.name}:${e.z.shape.join("x")}`),
    [`enc:Z_A:${n}x${r}`, `enc:Z_B:${n}x${nOut}`],
  );
  const zA = linearRef(x, a);
  const zB = linearRef(zA, bb);
  for (const [want, got] of [[zA.d, seen[0]], [zB.d, seen[1]]] as const) {
    assert.ok(got !== undefined);
    const d = await read(got.z);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs((d[i] as number) - (want[i] as number)) < 1e-5);
    got.z.dispose();
  }
  y.dispose();
});

test("dropout applies to the adapter's input only, with the mask of fold(key, path)", async () => {
  const rate = 0.5;
  const dkey = prng.key(5);
  const ctx = context({ scaling: s, dropout: rate, key: dkey });
  const module = {
    weight: toTensor(w),
    bias: vecTensor(b),
    lora_A: { weight: toTensor(a) },
    lora_B: { weight: toTensor(bb) },
  };
  const got = await read(linear.apply(module, toTensor(x), at(ctx, "layers.0.q_proj")));
  const mask = await read(dropout.mask(prng.fold(dkey, "layers.0.q_proj"), [n, nIn], rate));
  const xd = { ...x, d: x.d.map((v, i) => v * (mask[i] as number)) };
  const base = linearRef(x, w, b);
  const adapter = linearRef(linearRef(xd, a), bb);
  for (let i = 0; i < got.length; i++) {
    const want = (base.d[i] as number) + s * (adapter.d[i] as number);
    assert.ok(Math.abs((got[i] as number) - want) < 1e-4, `entry ${i}: ${got[i]} vs ${want}`);
  }
  assert.ok(mask.some((v) => v === 0), "the mask drops something, so the check is not vacuous");
  assert.throws(
    () =>
      linear.apply(
        { weight: toTensor(w), lora_A: { weight: toTensor(a) }, lora_B: { weight: toTensor(bb) } },
        toTensor(x),
        context({ scaling: 1, dropout: 0.1 }),
      ),
    /needs a key/,
  );
});

test("dropout from device keys (a jitted step's masks): same key same output, another key another, rate 0 none", async () => {
  const { jit, random } = await import("../src/engine/index.ts");
  const [x, w, a, bm] = [randomM(k, n, nIn), randomM(prng.fold(k, "w"), nOut, nIn), randomM(prng.fold(k, "a"), r, nIn), randomM(prng.fold(k, "b"), nOut, r)];
  const p = () => ({ weight: toTensor(w), lora_A: { weight: toTensor(a) }, lora_B: { weight: toTensor(bm) } });
  // Inside jit, as in the finetune step: the key is an argument, the mask is drawn on the device.
  const f = jit((params: ReturnType<typeof p>, xs: Tensor, key: Tensor) =>
    linear.apply(params, xs, at(context({ scaling: 2, dropout: 0.5, deviceKeys: () => key }), "fc1")),
  ) as unknown as (params: ReturnType<typeof p>, xs: Tensor, key: Tensor) => Tensor;
  const y1 = await read(f(p(), toTensor(x), random.key(1)));
  const y1again = await read(f(p(), toTensor(x), random.key(1)));
  const y2 = await read(f(p(), toTensor(x), random.key(2)));
  const plain = await read(linear.apply(p(), toTensor(x), at(context({ scaling: 2 }), "fc1")));
  assert.deepEqual([...y1again], [...y1]);
  assert.notDeepEqual([...y2], [...y1]);
  assert.notDeepEqual([...y1], [...plain]);
  const none = await read(linear.apply(p(), toTensor(x), at(context({ scaling: 2, dropout: 0, deviceKeys: () => random.key(1) }), "fc1")));
  assert.deepEqual([...none], [...plain]);
});
