// analyzeSweep: sweep rows → η*, stability edges, width exponents with CIs, transfer, ratios.
// A pure function of the FinalRows (StepRows are ignored here; the report reads them directly).
//
// Aggregation over seeds (documented choices, toy-protocol.md):
// - loss at one lr = geometric mean over seeds of the final loss; a diverged run (flag set or a
//   non-finite loss) counts as +∞, so one diverged seed removes that lr from the argmin;
// - η* = parabola-refined argmin of that curve (optimum.ts); stability edge: edge.ts;
// - uncertainty = bootstrap over seeds (bootstrap.ts): every replicate resamples each width's seeds
//   with replacement and re-runs the whole pipeline, so slope CIs include the η* noise.
import { prng } from "../core/index.ts";
import type { FinalRow, Row } from "../experiments/toy/rows.ts";
import { bootstrap, bootstrapKey, resampleIndices } from "./bootstrap.ts";
import { aggregateEdge, seedEdge, type EdgePoint } from "./edge.ts";
import { geoMean, logLogFit, quantile, slopeTInterval } from "./fit.ts";
import { findOptimum, nearestGridIndex } from "./optimum.ts";
import { RATIO_THEORY, theoryFor } from "./theory.ts";
import { transferPrediction } from "./transfer.ts";
import type {
  AnalysisOptions,
  CiMethod,
  CriterionAnalysis,
  EdgeCell,
  ExponentFit,
  InitAnalysis,
  OptimumCell,
  SweepAnalysis,
} from "./types.ts";

type Criterion = "trainLoss" | "testLoss";

/** One (init, width) cell: its lr grid (ascending), seeds, and runs[seedIdx][lrIdx]. */
interface Cell {
  readonly width: number;
  readonly lrs: number[];
  readonly seeds: number[];
  readonly runs: (FinalRow | undefined)[][];
}

function isDiverged(r: FinalRow): boolean {
  return r.diverged || !Number.isFinite(r.trainLoss);
}

function groupCells(rows: readonly FinalRow[]): Map<string, Cell[]> {
  const byInit = new Map<string, Map<number, FinalRow[]>>();
  for (const r of rows) {
    const byWidth = byInit.get(r.init) ?? new Map<number, FinalRow[]>();
    byInit.set(r.init, byWidth);
    const list = byWidth.get(r.width) ?? [];
    byWidth.set(r.width, list);
    list.push(r);
  }
  const out = new Map<string, Cell[]>();
  for (const [init, byWidth] of [...byInit].sort((a, b) => a[0].localeCompare(b[0]))) {
    const cells: Cell[] = [];
    for (const [width, list] of [...byWidth].sort((a, b) => a[0] - b[0])) {
      const lrs = [...new Set(list.map((r) => r.lr))].sort((a, b) => a - b);
      const seeds = [...new Set(list.map((r) => r.seed))].sort((a, b) => a - b);
      const runs = seeds.map(() => lrs.map((): FinalRow | undefined => undefined));
      for (const r of list) (runs[seeds.indexOf(r.seed)] as (FinalRow | undefined)[])[lrs.indexOf(r.lr)] = r;
      cells.push({ width, lrs, seeds, runs });
    }
    out.set(init, cells);
  }
  return out;
}

/** Seed-aggregated loss curve over the seeds at `pick` (indices into cell.seeds, repeats allowed). */
function lossCurve(cell: Cell, pick: readonly number[], crit: Criterion): number[] {
  return cell.lrs.map((_, j) => {
    const vals: number[] = [];
    for (const s of pick) {
      const r = cell.runs[s]?.[j];
      if (r === undefined) continue;
      const v = r[crit];
      vals.push(isDiverged(r) || !Number.isFinite(v) ? Infinity : v);
    }
    return vals.length === 0 ? NaN : geoMean(vals);
  });
}

function lrStarOf(cell: Cell, pick: readonly number[], crit: Criterion): number {
  return findOptimum(cell.lrs, lossCurve(cell, pick, crit)).lrStar;
}

function seedEdges(cell: Cell, threshold: number, interpolate: boolean): { lr: number | null; atEdge: boolean }[] {
  return cell.runs.map((runs) => {
    // A missing run is treated as unstable: the edge must not jump over an unmeasured lr.
    const pts: EdgePoint[] = runs.map((r) =>
      r === undefined ? { diverged: true, maxRmsZB: NaN } : { diverged: isDiverged(r), maxRmsZB: r.maxRmsZB },
    );
    return seedEdge(cell.lrs, pts, { threshold, interpolate });
  });
}

/** Geometric mean of a final-row field over the non-diverged seeds at grid index j. */
function atLr(cell: Cell, j: number, field: "rmsZA" | "rmsZB"): number {
  const vals = cell.runs.flatMap((runs) => {
    const r = runs[j];
    return r === undefined || isDiverged(r) || !(r[field] > 0) ? [] : [r[field]];
  });
  return vals.length === 0 ? NaN : geoMean(vals);
}

function exponentFit(
  widths: readonly number[],
  values: readonly number[],
  boot: readonly number[] | null,
  method: CiMethod,
  theory: number | null,
): ExponentFit {
  const fit = logLogFit(widths, values);
  const ciT = slopeTInterval(fit);
  const ciBootstrap: [number, number] = boot === null ? [NaN, NaN] : [quantile(boot, 0.025), quantile(boot, 0.975)];
  const ci = method === "bootstrap" && boot !== null ? ciBootstrap : ciT;
  return { slope: fit.slope, intercept: fit.intercept, ci, ciBootstrap, ciT, method, theory, points: fit.n };
}

interface Ctx {
  readonly init: string;
  readonly cells: Cell[];
  readonly reps: number;
  readonly seed: number;
  readonly method: CiMethod;
}

/** Replicate b's resampled seed indices for every width (independent per width, per init). */
function resamples(ctx: Ctx): number[][][] {
  const root = bootstrapKey(ctx.seed, `seeds:${ctx.init}`);
  return ctx.cells.map((cell) => {
    const k = cell.seeds.length;
    const key = prng.fold(root, cell.width);
    return Array.from({ length: ctx.reps }, (_, b) => resampleIndices(key, b, k));
  });
}

function analyzeCriterion(ctx: Ctx, picks: number[][][], crit: Criterion): CriterionAnalysis {
  const widths = ctx.cells.map((c) => c.width);
  const theory = theoryFor(ctx.init);
  const all = (c: Cell): number[] => c.seeds.map((_, i) => i);
  // Bootstrap: per replicate, η* at every width and the slope across widths.
  const bootLr: number[][] = ctx.cells.map(() => []);
  const bootSlope = bootstrap(
    (b) => ctx.cells.map((c, w) => lrStarOf(c, (picks[w] as number[][])[b] as number[], crit)),
    (lrs) => {
      lrs.forEach((lr, w) => (bootLr[w] as number[]).push(lr));
      return logLogFit(widths, lrs).slope;
    },
    { replicates: ctx.reps },
  );
  const cells: OptimumCell[] = ctx.cells.map((c, w) => {
    const curve = lossCurve(c, all(c), crit);
    const opt = findOptimum(c.lrs, curve);
    const j = nearestGridIndex(c.lrs, opt.lrStar);
    const boot = bootLr[w] as number[];
    const multi = c.seeds.length > 1;
    return {
      width: c.width,
      lrStar: opt.lrStar,
      lrStarCI: multi ? [quantile(boot, 0.025), quantile(boot, 0.975)] : [NaN, NaN],
      gridLr: opt.gridLr,
      nearestLr: j === -1 ? NaN : (c.lrs[j] as number),
      atEdge: opt.atEdge,
      refined: opt.refined,
      bestLoss: opt.bestLoss,
      rmsZA: j === -1 ? NaN : atLr(c, j, "rmsZA"),
      rmsZB: j === -1 ? NaN : atLr(c, j, "rmsZB"),
      curve: c.lrs.map((lr, i) => ({ lr, loss: curve[i] as number })),
      seeds: c.seeds.length,
    };
  });
  const lrStars = cells.map((c) => c.lrStar);
  const fit = exponentFit(widths, lrStars, bootSlope.values, ctx.method, theory?.lrStar ?? null);
  // RMS(Z) at η*: t-interval only (the nearest-grid-lr choice makes a bootstrap of it jumpy).
  const rmsZAFit = exponentFit(widths, cells.map((c) => c.rmsZA), null, "t", theory?.rmsZA ?? null);
  const rmsZBFit = exponentFit(widths, cells.map((c) => c.rmsZB), null, "t", theory?.rmsZB ?? null);
  const t = transferPrediction(widths, lrStars, theory?.lrStar);
  const transfer =
    t === null
      ? null
      : { fitWidths: t.fitWidths, slope: t.slope, points: t.points, meanAbsLogRatio: t.meanAbsLogRatio };
  return { cells, fit, rmsZAFit, rmsZBFit, transfer };
}

function analyzeEdge(ctx: Ctx, picks: number[][][], threshold: number, interpolate: boolean): InitAnalysis["edge"] {
  const widths = ctx.cells.map((c) => c.width);
  const perSeed = ctx.cells.map((c) => seedEdges(c, threshold, interpolate));
  const bootLr: number[][] = ctx.cells.map(() => []);
  const bootSlope = bootstrap(
    (b) =>
      perSeed.map(
        (edges, w) =>
          aggregateEdge(
            ((picks[w] as number[][])[b] as number[]).map((i) => edges[i] as { lr: number | null; atEdge: boolean }),
          ) ?? NaN,
      ),
    (lrs) => {
      lrs.forEach((lr, w) => (bootLr[w] as number[]).push(lr));
      return logLogFit(widths, lrs).slope;
    },
    { replicates: ctx.reps },
  );
  const cells: EdgeCell[] = ctx.cells.map((c, w) => {
    const edges = perSeed[w] as { lr: number | null; atEdge: boolean }[];
    const boot = bootLr[w] as number[];
    return {
      width: c.width,
      lr: aggregateEdge(edges),
      ci: c.seeds.length > 1 ? [quantile(boot, 0.025), quantile(boot, 0.975)] : [NaN, NaN],
      atEdge: edges.some((e) => e.atEdge),
      seedEdges: edges.map((e) => e.lr),
    };
  });
  const fit = exponentFit(
    widths,
    cells.map((c) => c.lr ?? NaN),
    bootSlope.values,
    ctx.method,
    theoryFor(ctx.init)?.edge ?? null,
  );
  return { cells, fit };
}

/** Analyze a sweep's rows (see the file comment for every aggregation choice). */
export function analyzeSweep(rows: readonly Row[], opts: AnalysisOptions = {}): SweepAnalysis {
  const finals = rows.filter((r): r is FinalRow => r.kind === "final");
  const grouped = groupCells(finals);
  const multiSeed = [...grouped.values()].every((cells) => cells.every((c) => c.seeds.length >= 2));
  const options = {
    edgeThreshold: opts.edgeThreshold ?? 1.0,
    edgeInterpolate: opts.edgeInterpolate ?? true,
    bootstrapReplicates: opts.bootstrapReplicates ?? 200,
    bootstrapSeed: opts.bootstrapSeed ?? 0,
    ciMethod: opts.ciMethod ?? (multiSeed ? "bootstrap" : "t"),
  } as const;
  const inits: InitAnalysis[] = [];
  for (const [init, cells] of grouped) {
    const ctx: Ctx = {
      init,
      cells,
      reps: options.bootstrapReplicates,
      seed: options.bootstrapSeed,
      method: options.ciMethod,
    };
    const picks = resamples(ctx);
    const mine = finals.filter((r) => r.init === init);
    inits.push({
      init,
      widths: cells.map((c) => c.width),
      train: analyzeCriterion(ctx, picks, "trainLoss"),
      test: analyzeCriterion(ctx, picks, "testLoss"),
      edge: analyzeEdge(ctx, picks, options.edgeThreshold, options.edgeInterpolate),
      diverged: mine.filter(isDiverged).length,
      runs: mine.length,
    });
  }
  return { inits, ratio: ratioOf(inits), options };
}

/** η*_A / η*_B per width and its width exponent, with η* chosen by train (default) or test loss. */
export function ratioOf(inits: readonly InitAnalysis[], key: "train" | "test" = "train"): SweepAnalysis["ratio"] {
  const a = inits.find((i) => i.init === "init-a");
  const b = inits.find((i) => i.init === "init-b");
  if (a === undefined || b === undefined) return null;
  const rows = a[key].cells.flatMap((ca) => {
    const cb = b[key].cells.find((c) => c.width === ca.width);
    return cb === undefined ? [] : [{ width: ca.width, ratio: ca.lrStar / cb.lrStar, sqrtWidth: Math.sqrt(ca.width) }];
  });
  const fit = exponentFit(rows.map((r) => r.width), rows.map((r) => r.ratio), null, "t", RATIO_THEORY);
  return { rows, fit };
}
