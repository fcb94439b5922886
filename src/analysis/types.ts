// The result of analyzing one sweep: plain data, JSON-serialisable (NaN/∞ become null there).
import type { TransferPoint } from "./transfer.ts";

export interface AnalysisOptions {
  /** Max RMS(Z_B) of a stable run for the stability edge (default 1.0). */
  readonly edgeThreshold?: number;
  /** Interpolate the edge between the last stable and first unstable lr (default true; edge.ts). */
  readonly edgeInterpolate?: boolean;
  /** Bootstrap replicates over seeds (default 200). */
  readonly bootstrapReplicates?: number;
  /** Seed of the bootstrap stream (default 0): the same rows and seed give the same intervals. */
  readonly bootstrapSeed?: number;
  /**
   * How slope CIs are computed: "bootstrap" (95 % percentile interval, seeds resampled with
   * replacement independently per width, the whole pipeline re-run per replicate) or "t" (95 %
   * t-interval of the OLS slope on the point estimates, df = widths − 2). Default "bootstrap" when
   * every width has ≥ 2 seeds, else "t". With 2–3 seeds the bootstrap understates the spread; both
   * intervals are always reported (`ciBootstrap`, `ciT`).
   */
  readonly ciMethod?: "bootstrap" | "t";
}

export type CiMethod = "bootstrap" | "t";

/** A width exponent: log y = intercept + slope·log n. */
export interface ExponentFit {
  readonly slope: number;
  readonly intercept: number;
  /** The interval selected by `method`. */
  readonly ci: [number, number];
  readonly ciBootstrap: [number, number];
  readonly ciT: [number, number];
  readonly method: CiMethod;
  /** Theoretical exponent (Hayou, Ghosh & Yu 2024), null where the theory says nothing. */
  readonly theory: number | null;
  /** Widths used in the fit. */
  readonly points: number;
}

/** η* of one (init, width) cell under one loss criterion. */
export interface OptimumCell {
  readonly width: number;
  /** Parabola-refined η* of the seed-aggregated loss curve (NaN if every lr diverged). */
  readonly lrStar: number;
  /** 95 % bootstrap interval of η* over seeds ([NaN, NaN] with one seed). */
  readonly lrStarCI: [number, number];
  /** Grid argmin and the grid lr nearest η* (the runs to plot for "at η*"). */
  readonly gridLr: number;
  readonly nearestLr: number;
  /** True when the argmin is at an end of the finite part of the grid. */
  readonly atEdge: boolean;
  readonly refined: boolean;
  /** Seed-aggregated loss at the grid argmin. */
  readonly bestLoss: number;
  /** Geometric-mean final RMS(Z_A), RMS(Z_B) over the non-diverged seeds at `nearestLr`. */
  readonly rmsZA: number;
  readonly rmsZB: number;
  /** The seed-aggregated loss curve (∞ where a seed diverged). */
  readonly curve: { lr: number; loss: number }[];
  readonly seeds: number;
}

export type TransferPointOut = TransferPoint;

export interface CriterionAnalysis {
  readonly cells: OptimumCell[];
  readonly fit: ExponentFit;
  readonly rmsZAFit: ExponentFit;
  readonly rmsZBFit: ExponentFit;
  readonly transfer: {
    readonly fitWidths: number[];
    readonly slope: number;
    readonly points: TransferPointOut[];
    readonly meanAbsLogRatio: number;
  } | null;
}

export interface EdgeCell {
  readonly width: number;
  /** Seed-aggregated stability edge (null when every seed is unstable at the smallest lr). */
  readonly lr: number | null;
  readonly ci: [number, number];
  /** True when some seed was stable over the whole grid (the edge is a lower bound). */
  readonly atEdge: boolean;
  readonly seedEdges: (number | null)[];
}

export interface InitAnalysis {
  readonly init: string;
  readonly widths: number[];
  readonly train: CriterionAnalysis;
  readonly test: CriterionAnalysis;
  readonly edge: { readonly cells: EdgeCell[]; readonly fit: ExponentFit };
  /** Final rows flagged diverged (or with a non-finite train loss), and all final rows. */
  readonly diverged: number;
  readonly runs: number;
}

export interface RatioRow {
  readonly width: number;
  /** η*_init-a / η*_init-b (train loss). */
  readonly ratio: number;
  readonly sqrtWidth: number;
}

export interface SweepAnalysis {
  readonly inits: InitAnalysis[];
  /** Present when both init-a and init-b were swept. */
  readonly ratio: { readonly rows: RatioRow[]; readonly fit: ExponentFit } | null;
  readonly options: {
    readonly edgeThreshold: number;
    readonly edgeInterpolate: boolean;
    readonly bootstrapReplicates: number;
    readonly bootstrapSeed: number;
    readonly ciMethod: CiMethod;
  };
}
