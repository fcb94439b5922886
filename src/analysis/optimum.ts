// The loss-optimal learning rate η* of one (init, width) cell from its loss-vs-lr curve:
// the grid argmin, refined by a parabola through log-loss on log-lr at the argmin and its two
// neighbours (toy-protocol.md "η*"), clamped to those neighbours.

export interface Optimum {
  /** Refined η* (equal to the grid argmin when refinement is impossible). NaN if no finite loss. */
  readonly lrStar: number;
  /** Index into the lr grid of the argmin. -1 if no finite loss. */
  readonly gridIndex: number;
  /** The grid lr at the argmin. */
  readonly gridLr: number;
  /** Loss at the grid argmin. */
  readonly bestLoss: number;
  /** True when the argmin is the smallest or largest lr with a finite loss: η* may lie outside. */
  readonly atEdge: boolean;
  /** True when the parabola refinement was applied. */
  readonly refined: boolean;
}

/**
 * Vertex of the parabola through (x0,y0), (x1,y1), (x2,y2), or null when the three points are not
 * convex (no interior minimum). Standard three-point formula.
 */
export function parabolaVertex(x0: number, y0: number, x1: number, y1: number, x2: number, y2: number): number | null {
  const d0 = (y0 - y1) / (x0 - x1);
  const d1 = (y1 - y2) / (x1 - x2);
  const a = (d0 - d1) / (x0 - x2); // second-order divided difference = curvature / 2
  if (!(a > 0)) return null;
  const b = d0 - a * (x0 + x1);
  return -b / (2 * a);
}

/**
 * η* from losses on an ascending lr grid. +∞ (diverged) and NaN losses never win the argmin;
 * refinement needs both neighbours finite, and the vertex is clamped to [lr[i-1], lr[i+1]].
 */
export function findOptimum(lrs: readonly number[], losses: readonly number[]): Optimum {
  let best = -1;
  let bestLoss = Infinity;
  for (let i = 0; i < lrs.length; i++) {
    const l = losses[i] as number;
    if (Number.isFinite(l) && l < bestLoss) {
      bestLoss = l;
      best = i;
    }
  }
  if (best === -1) return { lrStar: NaN, gridIndex: -1, gridLr: NaN, bestLoss: NaN, atEdge: false, refined: false };
  const finite = (i: number): boolean =>
    i >= 0 && i < lrs.length && Number.isFinite(losses[i]) && (losses[i] as number) > 0;
  const gridLr = lrs[best] as number;
  // An edge means no finite loss on one side: the true optimum may lie beyond the grid.
  const atEdge = !finite(best - 1) || !finite(best + 1);
  if (atEdge || !(bestLoss > 0)) return { lrStar: gridLr, gridIndex: best, gridLr, bestLoss, atEdge, refined: false };
  const x = [best - 1, best, best + 1].map((i) => Math.log(lrs[i] as number));
  const y = [best - 1, best, best + 1].map((i) => Math.log(losses[i] as number));
  const v = parabolaVertex(
    x[0] as number,
    y[0] as number,
    x[1] as number,
    y[1] as number,
    x[2] as number,
    y[2] as number,
  );
  if (v === null) return { lrStar: gridLr, gridIndex: best, gridLr, bestLoss, atEdge, refined: false };
  const clamped = Math.min(x[2] as number, Math.max(x[0] as number, v));
  return { lrStar: Math.exp(clamped), gridIndex: best, gridLr, bestLoss, atEdge, refined: true };
}

/** Index of the grid lr nearest (in log) to `lr`; -1 for an empty grid or a non-finite lr. */
export function nearestGridIndex(lrs: readonly number[], lr: number): number {
  if (!(lr > 0)) return -1;
  let best = -1;
  let dist = Infinity;
  for (let i = 0; i < lrs.length; i++) {
    const d = Math.abs(Math.log(lrs[i] as number) - Math.log(lr));
    if (d < dist) {
      dist = d;
      best = i;
    }
  }
  return best;
}
