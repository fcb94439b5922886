// Theoretical width exponents for the sweep (Hayou, Ghosh & Yu 2024, re-derived under SignSGD; the
// "max stable c" row gives the edge and — per the paper — the optimal lr).

export interface InitTheory {
  /** η* ∝ n^lrStar and the stability edge ∝ n^edge. */
  readonly lrStar: number;
  readonly edge: number;
  /** RMS(Z_A), RMS(Z_B) at the max stable lr. */
  readonly rmsZA: number;
  readonly rmsZB: number;
}

export const THEORY: Readonly<Record<string, InitTheory>> = {
  "init-a": { lrStar: -0.5, edge: -0.5, rmsZA: 0.5, rmsZB: 0 },
  "init-b": { lrStar: -1, edge: -1, rmsZA: 0, rmsZB: 0 },
};

/** η*_init-a / η*_init-b ∝ n^{1/2} (Hayou, Ghosh & Yu 2024, Prediction 1). */
export const RATIO_THEORY = 0.5;

export function theoryFor(init: string): InitTheory | null {
  return THEORY[init] ?? null;
}
