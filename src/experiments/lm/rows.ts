// The language-model sweep's row: one JSON file per finished finetune (experiments/grid-sweep.ts).
import type { DynamicsPoint } from "../rows.ts";

/** A held-out set's loss (nats per predicted token) and perplexity e^loss after finetuning. */
export interface LmHeldOutRow {
  readonly loss: number;
  readonly perplexity: number;
}

/** One finished LM finetune of a `lorascope sweep --model …` (one JSON file per run). */
export interface LmRunRow {
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
  /** The training loss became non-finite. */
  readonly diverged: boolean;
  /** The loss ended above ln V, worse than the uniform distribution over the vocabulary. */
  readonly collapsed: boolean;
  /** After finetuning; null without a held-out set or when the run diverged. */
  readonly validation: LmHeldOutRow | null;
  readonly test: LmHeldOutRow | null;
  /** The same sets before finetuning (the base model), for the gain. */
  readonly validationBefore?: LmHeldOutRow | null;
  readonly testBefore?: LmHeldOutRow | null;
  readonly tokensPerSecond: number;
  readonly peakRssMiB?: number;
  readonly finalLoss?: number | null;
  /** Mean over modules per measurement; absent when the run recorded none. */
  readonly dynamics?: readonly DynamicsPoint[];
}
