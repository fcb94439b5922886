// The flags every training command shares: the LoRA options (lora/config.ts, PEFT's names), the
// optimizer's (train/optimizer.ts) and the loop's (evaluation cadence, early stopping, checkpoints).
// A model's command spreads `trainFlags(defaults)` into its table with its own target modules; the
// defaults come from the library's constants, so help shows what a run without the flag does.
import { LORA_DEFAULTS } from "../lora/config.ts";
import { OPTIMIZER_DEFAULTS, SCHEDULES, type ScheduleName } from "../train/options.ts";
import type { FlagTable } from "./flag-table.ts";

export function trainFlags(d: { readonly targetModules: readonly string[]; readonly weightDecay: number }) {
  return {
    "target-modules": { kind: "list", help: "modules that get LoRA factors (a module name matches its path or a dotted suffix)", default: d.targetModules },
    dropout: { kind: "number", help: "lora_dropout: dropout on the adapter's input while training", min: 0, max: 1, default: LORA_DEFAULTS.lora_dropout },
    "use-rslora": { kind: "bool", help: "rsLoRA scaling lora_alpha/√r instead of lora_alpha/r", default: LORA_DEFAULTS.use_rslora },
    "loraplus-lr-ratio": { kind: "number", help: "LoRA+: train lora_B this many times faster than lora_A (default: off)", positive: true, max: 1e6 },
    schedule: { kind: "string", help: "learning-rate schedule after warmup", choices: SCHEDULES, default: OPTIMIZER_DEFAULTS.schedule },
    warmup: { kind: "int", help: "steps of linear warmup (overrides --warmup-fraction)", min: 0, max: 1e9 },
    "weight-decay": { kind: "number", help: "AdamW weight decay", min: 0, max: 1e3, default: d.weightDecay },
    "grad-clip": { kind: "number", help: "clip the global gradient norm to this (default: off)", positive: true, max: 1e12 },
    "eval-every": { kind: "int", help: "evaluate on validation every N steps", min: 1, max: 1e9, defaultText: "once per epoch" },
    "early-stop-patience": { kind: "int", help: "stop after N evaluations without a lower validation loss; the best adapter is kept", min: 1, max: 1e6 },
  } as const satisfies FlagTable;
}

/** --checkpoint-every: where the run's state goes, not what it computes (not a setting). */
export const CHECKPOINT_FLAG = {
  "checkpoint-every": { kind: "int", setting: false, min: 1, max: 1e9, help: "write OUT/checkpoint every N steps", defaultText: "every minute" },
} as const satisfies FlagTable;

/** The values of the `trainFlags` group as the library's options. */
export interface TrainFlagValues {
  readonly "target-modules": readonly string[];
  readonly dropout: number;
  readonly "use-rslora": boolean;
  readonly "loraplus-lr-ratio": number | undefined;
  readonly schedule: ScheduleName;
  readonly warmup: number | undefined;
  readonly "weight-decay": number;
  readonly "grad-clip": number | undefined;
  readonly "eval-every": number | undefined;
  readonly "early-stop-patience": number | undefined;
}

/** The LoRA, optimizer and loop options of a run, without the absent ones. */
export function trainOptions(v: TrainFlagValues): {
  targetModules: readonly string[];
  dropout: number;
  useRslora: boolean;
  schedule: ScheduleName;
  weightDecay: number;
  loraplusLrRatio?: number;
  warmupSteps?: number;
  gradClip?: number;
  evalEvery?: number;
  earlyStopPatience?: number;
} {
  return {
    targetModules: v["target-modules"],
    dropout: v.dropout,
    useRslora: v["use-rslora"],
    schedule: v.schedule,
    weightDecay: v["weight-decay"],
    ...(v["loraplus-lr-ratio"] === undefined ? {} : { loraplusLrRatio: v["loraplus-lr-ratio"] }),
    ...(v.warmup === undefined ? {} : { warmupSteps: v.warmup }),
    ...(v["grad-clip"] === undefined ? {} : { gradClip: v["grad-clip"] }),
    ...(v["eval-every"] === undefined ? {} : { evalEvery: v["eval-every"] }),
    ...(v["early-stop-patience"] === undefined ? {} : { earlyStopPatience: v["early-stop-patience"] }),
  };
}
