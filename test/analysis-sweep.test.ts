import assert from "node:assert/strict";
import { test } from "node:test";
import {
  analyzeSweep,
  bootstrap,
  bootstrapKey,
  findOptimum,
  formatSummary,
  logLogFit,
  ols,
  resampleIndices,
  seedEdge,
  slopeTInterval,
  summaryJson,
  transferPrediction,
} from "../src/analysis/index.ts";
import type { FinalRow, Row } from "../src/experiments/toy/rows.ts";
import { LAWS, syntheticRows } from "./helpers/synthetic-rows.ts";

test("ols recovers an exact line and its t-interval collapses to the slope", () => {
  const x = [1, 2, 3, 4, 5];
  const fit = ols(x, x.map((v) => 3 - 0.7 * v));
  assert.ok(Math.abs(fit.slope + 0.7) < 1e-12);
  assert.ok(Math.abs(fit.intercept - 3) < 1e-12);
  const [lo, hi] = slopeTInterval(fit);
  assert.ok(hi - lo < 1e-9);
  // With noise the 95 % interval has the textbook half-width t(3)·SE.
  const noisy = ols(x, [1, 2.2, 2.9, 4.3, 4.9]);
  const [l2, h2] = slopeTInterval(noisy);
  assert.ok(Math.abs((h2 - l2) / 2 - 3.182 * noisy.slopeSE) < 1e-9);
  assert.equal(logLogFit([10, 100, 1000], [1, 0.1, 0.01]).slope.toFixed(9), "-1.000000000");
});

test("parabola refinement is exact on a quadratic log-loss and flags grid edges", () => {
  const lrs = Array.from({ length: 12 }, (_, i) => 2 ** (-10 + i));
  const star = 0.0123;
  const losses = lrs.map((lr) => Math.exp(0.5 + 0.4 * Math.log(lr / star) ** 2));
  const opt = findOptimum(lrs, losses);
  assert.ok(opt.refined && !opt.atEdge);
  assert.ok(Math.abs(opt.lrStar / star - 1) < 1e-9, `lrStar ${opt.lrStar}`);
  // Monotone decreasing losses: the argmin is the last lr and is flagged, not refined.
  const edge = findOptimum(lrs, lrs.map((lr) => 1 / lr));
  assert.ok(edge.atEdge && !edge.refined && edge.lrStar === lrs[11]);
  // A diverged (∞) neighbour also makes the argmin an edge.
  const withInf = losses.map((l, i) => (i > 7 ? Infinity : l));
  withInf[6] = 0.01;
  assert.ok(findOptimum(lrs, withInf).atEdge === false);
  withInf[7] = 0.001;
  assert.ok(findOptimum(lrs, withInf).atEdge);
});

test("bootstrap is deterministic under a seed and differs across seeds", () => {
  const draw = (key: ReturnType<typeof bootstrapKey>) => (b: number) => resampleIndices(key, b, 5);
  const stat = (idx: number[]) => idx.reduce((s, i) => s + [1, 2, 3, 10, 20][i]!, 0);
  const a = bootstrap(draw(bootstrapKey(7, "x")), stat, { replicates: 50 });
  const b = bootstrap(draw(bootstrapKey(7, "x")), stat, { replicates: 50 });
  const c = bootstrap(draw(bootstrapKey(8, "x")), stat, { replicates: 50 });
  assert.deepEqual(a.values, b.values);
  assert.notDeepEqual(a.values, c.values);
  assert.ok(a.ci[0] < a.ci[1]);
});

test("edge: last stable lr before the first unstable one, interpolated at the threshold", () => {
  const lrs = [0.01, 0.02, 0.04, 0.08, 0.16];
  // max RMS(Z_B) = (lr / 0.05)² crosses 1 at lr = 0.05 exactly in log–log.
  const pts = lrs.map((lr) => ({ diverged: false, maxRmsZB: (lr / 0.05) ** 2 }));
  assert.ok(Math.abs((seedEdge(lrs, pts).lr as number) - 0.05) < 1e-12);
  assert.equal(seedEdge(lrs, pts, { interpolate: false }).lr, 0.04);
  // A stable point above an unstable one is ignored; a diverged neighbour gives the grid value.
  const holes = pts.map((p, i) =>
    i === 3 ? { diverged: true, maxRmsZB: Infinity } : i === 4 ? { diverged: false, maxRmsZB: 0.1 } : p,
  );
  assert.equal(seedEdge(lrs, holes, { threshold: 10 }).lr, 0.04);
  assert.deepEqual(seedEdge(lrs, pts, { threshold: 100 }), { lr: 0.16, atEdge: true });
  assert.deepEqual(seedEdge(lrs, pts, { threshold: 0.01 }), { lr: null, atEdge: false });
});

test("transfer: an exact power law predicts with zero error, a kink shows up as its log-ratio", () => {
  const widths = [64, 128, 256, 512, 1024, 2048];
  const exact = transferPrediction(widths, widths.map((n) => 0.3 * n ** -0.5), -0.5)!;
  assert.deepEqual(exact.fitWidths, [64, 128, 256]);
  assert.ok(exact.points.every((p) => Math.abs(p.logRatio) < 1e-9 && Math.abs(p.theoryLogRatio) < 1e-9));
  const kinked = transferPrediction(
    widths,
    widths.map((n) => (n <= 256 ? 0.3 * n ** -0.5 : 0.3 * 256 ** -0.5 * (n / 256) ** -1)),
  )!;
  const last = kinked.points[kinked.points.length - 1]!;
  assert.ok(Math.abs(last.logRatio - 0.5 * Math.log(8)) < 1e-9, `log-ratio ${last.logRatio}`);
});

test("analyzeSweep recovers the generating exponents of η*, the edge and RMS Z_A", () => {
  const a = analyzeSweep(syntheticRows({ jitter: 0 }), { bootstrapReplicates: 20 });
  assert.deepEqual(a.inits.map((i) => i.init), ["init-a", "init-b"]);
  for (const i of a.inits) {
    const law = LAWS[i.init]!;
    assert.ok(Math.abs(i.train.fit.slope - law.lrExponent) < 1e-6, `${i.init} η* slope ${i.train.fit.slope}`);
    assert.ok(Math.abs(i.test.fit.slope - law.lrExponent) < 1e-6, `${i.init} test slope ${i.test.fit.slope}`);
    assert.ok(Math.abs(i.edge.fit.slope - law.edgeExponent) < 1e-6, `${i.init} edge slope ${i.edge.fit.slope}`);
    assert.ok(Math.abs(i.train.rmsZAFit.slope - law.zaExponent) < 1e-6);
    // The test optimum was generated at 0.8·η*.
    assert.ok(Math.abs(i.test.cells[0]!.lrStar / i.train.cells[0]!.lrStar - 0.8) < 1e-6);
    assert.equal(i.train.fit.theory, law.lrExponent);
    assert.ok(i.train.transfer!.meanAbsLogRatio < 1e-6);
  }
  const ratio = a.ratio!;
  assert.ok(Math.abs(ratio.fit.slope - 0.5) < 1e-6);
});

test("analyzeSweep: seed noise gives CIs that cover the truth, diverged runs are counted and never optimal", () => {
  const rows = syntheticRows({ jitter: 0.15, seeds: [0, 1, 2, 3] });
  const a = analyzeSweep(rows, { bootstrapReplicates: 100, bootstrapSeed: 3 });
  const again = analyzeSweep(rows, { bootstrapReplicates: 100, bootstrapSeed: 3 });
  assert.deepEqual(summaryJson(a), summaryJson(again));
  assert.equal(a.options.ciMethod, "bootstrap");
  for (const i of a.inits) {
    const [lo, hi] = i.train.fit.ci;
    assert.ok(lo < hi && lo <= i.train.fit.slope && i.train.fit.slope <= hi);
    assert.ok(Math.abs(i.train.fit.slope - LAWS[i.init]!.lrExponent) < 0.15, `${i.init} slope ${i.train.fit.slope}`);
    const divergedRows = rows.filter((r): r is FinalRow => r.kind === "final" && r.init === i.init && r.diverged);
    assert.ok(divergedRows.length > 0);
    assert.equal(i.diverged, divergedRows.length);
    // Diverged runs enter the curve as +∞ (at the large widths) and η* stays finite.
    assert.ok(i.train.cells.some((c) => c.curve.some((p) => p.loss === Infinity)), `${i.init}: no ∞ in any curve`);
    assert.ok(i.train.cells.every((c) => Number.isFinite(c.lrStar)), `${i.init}: non-finite η*`);
  }
  // Diverged runs at the optimum remove it from the argmin.
  const poisoned: Row[] = rows.map((r) =>
    r.kind === "final" &&
    r.init === "init-a" &&
    r.width === 64 &&
    r.seed === 0 &&
    Math.abs(Math.log2(r.lr / a.inits[0]!.train.cells[0]!.gridLr)) < 0.01
      ? { ...r, diverged: true, trainLoss: NaN }
      : r,
  );
  const p = analyzeSweep(poisoned, { bootstrapReplicates: 10 });
  assert.notEqual(p.inits[0]!.train.cells[0]!.gridLr, a.inits[0]!.train.cells[0]!.gridLr);
});

test("summaryJson has the contract keys and formatSummary prints theory beside each slope", () => {
  const a = analyzeSweep(syntheticRows({ widths: [64, 256, 1024], seeds: [0, 1] }), { bootstrapReplicates: 10 });
  const s = JSON.parse(JSON.stringify(summaryJson(a))) as {
    optimalLr: Record<string, object>;
    slopeCI: Record<string, unknown[]>;
    test: object;
  };
  for (const k of [
    "slope",
    "slopeCI",
    "optimalLr",
    "bestLoss",
    "stableLr",
    "stableSlope",
    "stableSlopeCI",
    "rmsZAatOptimum",
    "diverged",
    "test",
  ]) {
    assert.ok(k in s, `missing ${k}`);
  }
  assert.deepEqual(Object.keys(s.optimalLr["init-a"] ?? {}), ["64", "256", "1024"]);
  assert.equal(s.slopeCI["init-b"]?.length, 2);
  for (const k of ["slope", "slopeCI", "optimalLr", "bestLoss", "rmsZAatOptimum"]) assert.ok(k in s.test);
  const text = formatSummary(a);
  assert.match(text, /init-a/);
  assert.match(text, /theory -0\.5/);
  assert.match(text, /theory -1\)/);
});
