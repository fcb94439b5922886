// The toy step's hand-written gradients (src/train/toy-step.ts, stages 2–3) against jax-js's
// valueAndGrad of the same loss through models/toy.ts's forward pass. With plain SGD at lr = 1 one
// step moves each factor by exactly minus its gradient, so A₀ − A₁ and Bᵀ₀ − Bᵀ₁ are the step's
// gradients. Inputs are random, so no pre-activation sits exactly at relu's kink.
import { test } from "node:test";
import assert from "node:assert/strict";
import { prng } from "../src/core/index.ts";
import { initEngine, read, tensor, valueAndGrad, type Tensor } from "../src/engine/index.ts";
import { mse, studentForward } from "../src/models/toy.ts";
import { initialToyState, makeToyStep } from "../src/train/toy-step.ts";

const [K, r, n, N, s] = [3, 4, 16, 24, 0.5];
const root = prng.key(7);
const normal = (name: string, shape: number[], std: number) => prng.normal(prng.fold(root, name), shape, std);

test("the hand-written toy gradients equal valueAndGrad's", async () => {
  await initEngine();
  const host = {
    H: normal("H", [N, n], 1).map((v) => Math.max(v, 0)),
    C: normal("C", [N, n], 1),
    y: normal("y", [N], 1),
    w: normal("w", [n], 1 / Math.sqrt(n)),
    A: normal("A", [K, r, n], 1 / Math.sqrt(n)),
    B: normal("B", [K, r, n], 0.3), // Bᵀ, non-zero so that both factors get a gradient
  };
  const t = (name: keyof typeof host, shape: number[]) => tensor(host[name], shape);

  // Reference: d/dA, d/dBᵀ of Σ_k loss_k (adapters share nothing, so each gets its own gradient).
  const lossSum = (p: { A: Tensor; B: Tensor }, H: Tensor, C: Tensor, w: Tensor, y: Tensor) => {
    const { zaT, yhat } = studentForward(H, C, w, p.A, p.B, s);
    zaT.dispose();
    return mse(yhat, y).sum();
  };
  const [loss, g] = valueAndGrad(lossSum)(
    { A: t("A", [K, r, n]), B: t("B", [K, r, n]) },
    t("H", [N, n]),
    t("C", [N, n]),
    t("w", [n]),
    t("y", [N]),
  );
  const [wantLoss, wantA, wantB] = [await read(loss), await read(g.A), await read(g.B)];
  for (const x of [loss, g.A, g.B]) x.dispose();
  assert.ok(
    wantA.some((v) => v !== 0) && wantB.some((v) => v !== 0),
    "the reference gradients are zero: the check would prove nothing",
  );

  const state = initialToyState(t("A", [K, r, n]), t("B", [K, r, n]));
  const batch = { H: t("H", [N, n]), C: t("C", [N, n]), y: t("y", [N]), w: t("w", [n]) };
  const lr = tensor(new Float32Array(K).fill(1), [K]);
  const loss0 = tensor(new Float32Array(K).fill(1e30), [K]);
  const out = makeToyStep({ kind: "sgd" }, s, 1e6)(state, batch, lr, 1, loss0);
  const [A1, B1, lossK] = [await read(out.state.A), await read(out.state.B), await read(out.loss)];
  for (const x of [
    ...(Object.values(out.state) as Tensor[]),
    out.loss,
    out.updA,
    out.updB,
    ...Object.values(batch),
    lr,
    loss0,
  ] as Tensor[])
    x.dispose();

  const sumLoss = lossK.reduce((a, v) => a + v, 0);
  assert.ok(
    Math.abs(sumLoss - (wantLoss[0] as number)) <= 1e-5 * Math.abs(sumLoss),
    `loss ${sumLoss} vs ${wantLoss[0]}`,
  );
  // float32 differences of two summation orders, relative to the largest gradient entry.
  const check = (name: string, before: Float32Array, after: Float32Array, want: Float32Array) => {
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, i) => {
      const got = (before[i] as number) - (after[i] as number);
      assert.ok(Math.abs(got - v) <= 1e-4 * scale, `${name}[${i}]: hand ${got}, valueAndGrad ${v}`);
    });
  };
  check("dA", host.A, A1, wantA);
  check("dBt", host.B, B1, wantB);
});
