// The toy sweep's rows: one row per observation, JSON lines (store.ts beside this file); analysis and reports read
// them as pure functions of rows, so a figure can be redrawn without retraining.

/** Identifies one training run of a sweep. */
export interface RunKey {
  readonly width: number;
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
}

/** A measurement at one step of one run (emitted every `logEvery` steps and at the last step). */
export interface StepRow extends RunKey {
  readonly kind: "step";
  readonly step: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  /** RMS over batch and coordinates of Z_A = A·z and Z_B = B·A·z (train inputs). */
  readonly rmsZA: number;
  readonly rmsZB: number;
  /** RMS of the one-step decomposition of ΔZ_B (Hayou, Ghosh & Yu 2024), NaN at step 0. */
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
  /** Frobenius norms of A − A₀ and B − B₀. */
  readonly dA: number;
  readonly dB: number;
  /** Frobenius norms of this step's updates of A and B. */
  readonly updA: number;
  readonly updB: number;
}

/** The outcome of one finished run: written once, last, when the run ends. */
export interface FinalRow extends RunKey {
  readonly kind: "final";
  readonly steps: number;
  readonly diverged: boolean;
  /** Step at which divergence was detected, or null. */
  readonly divergedAt: number | null;
  readonly initialTrainLoss: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly rmsZA: number;
  readonly rmsZB: number;
  /** Largest RMS(Z_B) seen during the run (the stability edge uses it). */
  readonly maxRmsZB: number;
  readonly dA: number;
  readonly dB: number;
}

export type Row = StepRow | FinalRow;

export function runId(k: RunKey): string {
  return `${k.init}|n=${k.width}|lr=${k.lr.toPrecision(6)}|seed=${k.seed}`;
}
