// The analysis room: pure functions of sweep rows (never the engine).
export { analyzeSweep } from "./sweep.ts";
export { summaryJson, formatSummary } from "./summary.ts";
export type * from "./types.ts";
export { ols, logLogFit, slopeTInterval, t975, geoMean, quantile, type LineFit } from "./fit.ts";
export { findOptimum, parabolaVertex, nearestGridIndex, type Optimum } from "./optimum.ts";
export { bootstrap, resampleIndices, bootstrapKey, type BootstrapOptions, type BootstrapResult } from "./bootstrap.ts";
export {
  seedEdge,
  aggregateEdge,
  isStable,
  DEFAULT_EDGE_THRESHOLD,
  type EdgeOptions,
  type EdgePoint,
  type SeedEdge,
} from "./edge.ts";
export { transferPrediction, type Transfer, type TransferPoint } from "./transfer.ts";
export { THEORY, RATIO_THEORY, theoryFor, type InitTheory } from "./theory.ts";
