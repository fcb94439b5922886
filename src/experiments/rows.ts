// Row schema pieces shared by the studies' rows (toy/rows.ts, encoder/rows.ts) and the reports that
// draw them: the LoRA dynamics of one measurement.

/**
 * LoRA dynamics of an encoder run at one measurement, averaged over its adapted modules:
 * RMS(Z_A), RMS(Z_B) and the δ¹/δ²/δ³ decomposition of ΔZ_B since the previous measurement.
 */
export interface DynamicsPoint {
  readonly step: number;
  readonly rmsZA: number;
  readonly rmsZB: number;
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
}

/** The field-wise mean of RMS(Z_A), RMS(Z_B), δ¹, δ², δ³ over `points` (at least one), at `step`. */
export function meanDynamics(points: ReadonlyArray<Omit<DynamicsPoint, "step">>, step: number): DynamicsPoint {
  const mean = (k: keyof Omit<DynamicsPoint, "step">): number => points.reduce((a, p) => a + p[k], 0) / points.length;
  return {
    step,
    rmsZA: mean("rmsZA"),
    rmsZB: mean("rmsZB"),
    delta1: mean("delta1"),
    delta2: mean("delta2"),
    delta3: mean("delta3"),
  };
}
