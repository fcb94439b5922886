// The width study's analysis: LM rows mapped into the toy's schema (a diverged run is unstable and
// never optimal; validation loss is the "test" criterion) and analysed across widths. Synthetic rows
// whose validation loss is a parabola in log lr centred on a chosen η*(n) must give back that η*'s
// width exponent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeLmStudy, formatLmStudy, lmStudyJson, toyRowsOf, type WidthRows } from "../src/analysis/lm-study.ts";
import type { LmRunRow } from "../src/experiments/lm/rows.ts";

const LRS = Array.from({ length: 13 }, (_, i) => 1e-4 * 2 ** i);

function row(init: string, lr: number, seed: number, lrStar: number, zb: number): LmRunRow {
  const loss = 3 + 0.2 * Math.log(lr / lrStar) ** 2 + 0.001 * seed;
  return {
    init, lr, seed, diverged: false, collapsed: false,
    validation: { loss, perplexity: Math.exp(loss) },
    test: { loss: loss + 0.01, perplexity: Math.exp(loss + 0.01) },
    validationBefore: { loss: 4, perplexity: Math.exp(4) },
    tokensPerSecond: 1000,
    finalLoss: loss - 0.1,
    dynamics: [
      { step: 0, rmsZA: 0.5, rmsZB: 0, delta1: NaN, delta2: NaN, delta3: NaN },
      { step: 10, rmsZA: 0.6, rmsZB: zb, delta1: 0.1, delta2: 0.2, delta3: 0.01 },
    ],
  };
}

test("an LM row in the toy's schema: validation loss as the test criterion, the dynamics as step rows", () => {
  const rows = toyRowsOf(64, row("init-a", 1e-3, 0, 1e-3, 0.3));
  assert.deepEqual(rows.map((r) => r.kind), ["step", "step", "final"]);
  const final = rows[2];
  assert.ok(final?.kind === "final");
  assert.equal(final.testLoss, 3);
  assert.equal(final.maxRmsZB, 0.3);
  assert.equal(final.rmsZA, 0.6);
  const diverged = toyRowsOf(64, { ...row("init-a", 1, 0, 1e-3, 0.3), diverged: true, validation: null });
  const d = diverged.at(-1);
  assert.ok(d?.kind === "final");
  assert.equal(d.testLoss, Infinity);
  assert.equal(d.maxRmsZB, Infinity);
});

test("η* on validation loss recovers the width exponents the rows were built with", () => {
  const widths = [32, 64, 128, 256];
  const data: WidthRows[] = widths.map((n) => ({
    width: n,
    rows: LRS.flatMap((lr) =>
      [0, 1].flatMap((seed) => [
        // η*_A ∝ n^-1/2 and η*_B ∝ n^-1, both inside the grid; Z_B grows past the edge above 4·η*.
        row("init-a", lr, seed, 0.05 * n ** -0.5, lr > 0.2 * n ** -0.5 ? 5 : 0.1),
        row("init-b", lr, seed, 0.2 / n, lr > 0.8 / n ? 5 : 0.1),
      ]),
    ),
  }));
  const pretrained = widths.map((n) => ({ width: n, parameters: 1000 * n, perplexity: 50, unigramPerplexity: 90 }));
  const a = analyzeLmStudy(data, pretrained, { bootstrapReplicates: 20 });
  const slope = (init: string): number => a.sweep.inits.find((i) => i.init === init)?.test.fit.slope ?? NaN;
  // The grid is coarse (factors of 2) and the optimum parabola-refined: slopes within 0.1 of the truth.
  assert.ok(Math.abs(slope("init-a") + 0.5) < 0.1, `init-a slope ${slope("init-a")}`);
  assert.ok(Math.abs(slope("init-b") + 1) < 0.1, `init-b slope ${slope("init-b")}`);
  assert.equal(a.perWidth.length, 4);
  // η*_A / η*_B = 0.25·√n on validation loss: width exponent +0.5.
  assert.ok(a.ratio !== null);
  assert.ok(Math.abs(a.ratio.fit.slope - 0.5) < 0.1, `ratio slope ${a.ratio.fit.slope}`);
  const json = lmStudyJson(a);
  for (const k of ["optimalLr", "stableSlope", "ratio", "validationRatio", "test", "pretrained", "perWidth"]) assert.ok(k in json, k);
  assert.match(formatLmStudy(a), /η\*_A \/ η\*_B on validation loss: n = 32: [\d.]+,[\s\S]*width exponent 0\.[45]\d/);
  assert.match(formatLmStudy(a), /## Pretrained family[\s\S]*\| 256 \|[\s\S]*## Width 256/);
});
