// The stability edge of one (init, width) cell: the largest learning rate whose run stays
// non-diverged with max RMS(Z_B) ≤ threshold (toy-protocol.md, addendum). The theory's exponents
// (−1/2 for init-a, −1 for init-b; Hayou, Ghosh & Yu 2024 "max stable c") are about this edge, not
// about the loss-optimal η*, which the study found blurs them.
//
// Definition, per seed: walk the lr grid upward; the edge is the last lr before the first unstable
// run (so a lone "stable" point above an unstable one, e.g. a run that blew up and came back, does
// not count). With `interpolate` the edge is refined between that lr and the first unstable one by
// linear interpolation of log max RMS(Z_B) on log lr to where it crosses the threshold (only when
// the unstable run did not diverge, so its max RMS(Z_B) is a real measurement).
// Across seeds: the geometric mean of the per-seed edges (bootstrap resamples this list).
import { geoMean } from "./fit.ts";

export interface EdgeOptions {
  /** Max RMS(Z_B) allowed for a stable run (default 1.0). */
  readonly threshold?: number;
  /** Log–log interpolation between the last stable and first unstable lr (default true). */
  readonly interpolate?: boolean;
}

export interface EdgePoint {
  readonly diverged: boolean;
  readonly maxRmsZB: number;
}

export interface SeedEdge {
  /** The edge lr, or null when even the smallest lr is unstable. */
  readonly lr: number | null;
  /** True when every lr of the grid is stable: the edge is at least the largest lr. */
  readonly atEdge: boolean;
}

export const DEFAULT_EDGE_THRESHOLD = 1.0;

export function isStable(p: EdgePoint, threshold: number): boolean {
  return !p.diverged && Number.isFinite(p.maxRmsZB) && p.maxRmsZB <= threshold;
}

/** Stability edge of one seed's runs on an ascending lr grid (`points[i]` is the run at `lrs[i]`). */
export function seedEdge(lrs: readonly number[], points: readonly EdgePoint[], opts: EdgeOptions = {}): SeedEdge {
  const thr = opts.threshold ?? DEFAULT_EDGE_THRESHOLD;
  let firstBad = points.findIndex((p) => !isStable(p, thr));
  if (firstBad === -1) firstBad = points.length;
  if (firstBad === 0) return { lr: null, atEdge: false };
  const i = firstBad - 1;
  const lrI = lrs[i] as number;
  if (firstBad === points.length) return { lr: lrI, atEdge: true };
  const good = points[i] as EdgePoint;
  const bad = points[firstBad] as EdgePoint;
  if ((opts.interpolate ?? true) && !bad.diverged && Number.isFinite(bad.maxRmsZB) && good.maxRmsZB > 0) {
    const l0 = Math.log(good.maxRmsZB);
    const l1 = Math.log(bad.maxRmsZB);
    const x0 = Math.log(lrI);
    const x1 = Math.log(lrs[firstBad] as number);
    if (l1 > l0) {
      const f = Math.min(1, Math.max(0, (Math.log(thr) - l0) / (l1 - l0)));
      return { lr: Math.exp(x0 + f * (x1 - x0)), atEdge: false };
    }
  }
  return { lr: lrI, atEdge: false };
}

/** Seed-aggregated edge: geometric mean over the seeds that have one (null if none). */
export function aggregateEdge(edges: readonly SeedEdge[]): number | null {
  const lrs = edges.flatMap((e) => (e.lr === null ? [] : [e.lr]));
  return lrs.length === 0 ? null : geoMean(lrs);
}
