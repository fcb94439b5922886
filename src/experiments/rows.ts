// The one schema that sweeps write and analysis/report read: one row per observation, JSON lines.
// Analysis and reports are pure functions of these rows (style.md habit 11).

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
  return { step, rmsZA: mean("rmsZA"), rmsZB: mean("rmsZB"), delta1: mean("delta1"), delta2: mean("delta2"), delta3: mean("delta3") };
}

/** One finished sentence-encoder finetune of a `lorascope sweep` (one JSON file per run). */
export interface UseRunRow {
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
  readonly diverged: boolean;
  /** Finite loss, but one class for every validation example (use-finetune.ts); absent in older rows. */
  readonly collapsed?: boolean;
  readonly validation: { readonly accuracy: number; readonly loss?: number };
  readonly test: { readonly accuracy: number };
  readonly probe: { readonly validation: { readonly accuracy: number }; readonly test: { readonly accuracy: number } };
  readonly examplesPerSecond: number;
  /** Absent in rows written before these were recorded. */
  readonly evalExamplesPerSecond?: number;
  readonly peakRssMiB?: number;
  /** Texts of this run's data cut to the encoder's 128 tokens. */
  readonly truncated?: number;
  /** Examples used per split (absent in older rows). */
  readonly splits?: { readonly used: { readonly train: number; readonly validation: number; readonly test: number } };
  /** Mean over modules per measurement (use-dynamics.ts); absent in older rows. */
  readonly dynamics?: readonly DynamicsPoint[];
}
