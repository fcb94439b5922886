// The encoder sweep's row: one JSON file per finished finetune (sweep.ts).
import type { DynamicsPoint } from "../rows.ts";

/** One finished sentence-encoder finetune of a `lorascope sweep` (one JSON file per run). */
export interface EncoderRunRow {
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
  readonly diverged: boolean;
  /** Finite loss, but one class for every validation example (finetune.ts); absent in older rows. */
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
  /** Mean over modules per measurement (dynamics.ts); absent in older rows. */
  readonly dynamics?: readonly DynamicsPoint[];
}
