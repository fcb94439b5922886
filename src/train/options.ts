// The options of a finetune's optimizer, as plain data with defaults and one validation, free of
// engine imports so that the CLI's flag tables (and --help) can read them without loading the engine.
// train/optimizer.ts turns them into a GradientTransformation.
import { check } from "../core/errors.ts";

export const SCHEDULES = ["constant", "linear", "cosine"] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface OptimizerOptions {
  readonly schedule: ScheduleName;
  /** Steps of linear warmup from 0 to the peak rate (HF num_warmup_steps). */
  readonly warmupSteps: number;
  /** AdamW's decoupled weight decay. */
  readonly weightDecay: number;
  /** Clip the global gradient norm to this (torch clip_grad_norm_); absent: no clipping. */
  readonly gradClip?: number;
  /** LoRA+: η_B / η_A; absent: one rate for A and B. */
  readonly loraplusLrRatio?: number;
}

/** The optimizer options when nothing is given: linear decay without warmup, torch AdamW's decay. */
export const OPTIMIZER_DEFAULTS: OptimizerOptions = { schedule: "linear", warmupSteps: 0, weightDecay: 0.01 };

/** Validate; each message names the option and what it allows. */
export function checkOptimizerOptions(o: OptimizerOptions): void {
  check((SCHEDULES as readonly string[]).includes(o.schedule), `schedule "${o.schedule}" is not known; use one of ${SCHEDULES.join(", ")}`);
  check(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0, `warmup must be a non-negative whole number of steps, got ${o.warmupSteps}`);
  check(Number.isFinite(o.weightDecay) && o.weightDecay >= 0, `weight decay must be a non-negative number, got ${o.weightDecay}`);
  if (o.gradClip !== undefined) check(Number.isFinite(o.gradClip) && o.gradClip > 0, `grad clip must be a positive number, got ${o.gradClip}`);
  if (o.loraplusLrRatio !== undefined) {
    check(Number.isFinite(o.loraplusLrRatio) && o.loraplusLrRatio > 0, `loraplus lr ratio must be a positive number, got ${o.loraplusLrRatio}`);
  }
}

