// The batched toy trainer against PyTorch (autograd + torch.optim.Adam), fixture made by
// scripts/fixtures/make_toy_fixture.py: losses at every step and the final factors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { initEngine, tensor } from "../src/engine/index.ts";
import { trainToyAdapters } from "../src/train/toy-trainer.ts";

interface Fixture {
  n: number;
  N: number;
  Nt: number;
  r: number;
  scale: number;
  steps: number;
  H: number[];
  C: number[];
  y: number[];
  Htest: number[];
  Ctest: number[];
  ytest: number[];
  w: number[];
  runs: {
    init: string;
    lr: number;
    A0: number[];
    B0: number[];
    trainLoss: number[];
    testLoss: number[];
    A: number[];
    B: number[];
  }[];
}
const fx = JSON.parse(fs.readFileSync(new URL("./fixtures/toy-torch.json", import.meta.url), "utf8")) as Fixture;

test("toy trainer matches PyTorch Adam on a tiny run (all inits and lrs in one batch)", async () => {
  await initEngine();
  const { n, N, Nt } = fx;
  const data = {
    width: n, r: fx.r,
    H: tensor(fx.H, [N, n]), C: tensor(fx.C, [N, n]), y: tensor(fx.y, [N]),
    Htest: tensor(fx.Htest, [Nt, n]), Ctest: tensor(fx.Ctest, [Nt, n]), ytest: tensor(fx.ytest, [Nt]),
    w: tensor(fx.w, [n]),
  };
  const adapters = fx.runs.map((r) => ({ lr: r.lr, A0: Float32Array.from(r.A0), B0: Float32Array.from(r.B0) }));
  const res = await trainToyAdapters(data, adapters, {
    steps: fx.steps, logEvery: 1, scale: fx.scale, divergeFactor: 100, maxChunkElems: 2 ** 25,
    optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  });
  // float32 against a float64 reference: 1e-4 relative on losses, 1e-4 absolute on O(0.1–1) factors.
  fx.runs.forEach((ref, k) => {
    const got = res[k];
    assert.ok(got !== undefined);
    got.steps.forEach((s, i) => {
      const want = ref.trainLoss[i] as number;
      assert.ok(
        Math.abs(s.trainLoss - want) <= 1e-4 * want,
        `${ref.init} lr=${ref.lr} step ${i} train ${s.trainLoss} vs ${want}`,
      );
      const wt = ref.testLoss[i] as number;
      assert.ok(
        Math.abs(s.testLoss - wt) <= 1e-4 * wt,
        `${ref.init} lr=${ref.lr} step ${i} test ${s.testLoss} vs ${wt}`,
      );
    });
    ref.A.forEach((v, i) =>
      assert.ok(Math.abs((got.A[i] as number) - v) < 1e-4, `${ref.init} lr=${ref.lr} A[${i}] ${got.A[i]} vs ${v}`),
    );
    ref.B.forEach((v, i) =>
      assert.ok(Math.abs((got.B[i] as number) - v) < 1e-4, `${ref.init} lr=${ref.lr} B[${i}] ${got.B[i]} vs ${v}`),
    );
    assert.ok(got.final.trainLoss < (ref.trainLoss[0] as number), "training lowers the loss");
  });
  for (const t of Object.values(data)) if (typeof t !== "number") t.dispose();
});
