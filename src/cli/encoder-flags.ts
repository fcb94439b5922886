// The flags `finetune`, `evaluate` and `sweep` share. Defaults come from the library's constants in
// experiments/encoder/spec.ts, which is free of engine imports, so `--help` stays fast.
import { HEAD_INITS, ENCODER_DEFAULTS, ENCODER_LIMITS, ENCODER_TASKS, type EncoderTask } from "../experiments/encoder/spec.ts";
import { UserError } from "../core/errors.ts";
import type { FlagTable } from "./flags.ts";

export const FINETUNE_MODELS = ["use-lite"] as const;

const D = ENCODER_DEFAULTS;
const L = ENCODER_LIMITS;

export const MODEL_TASK_FLAGS = {
  model: { kind: "string", help: "the pretrained model", choices: FINETUNE_MODELS, default: "use-lite" },
  task: { kind: "string", help: "a built-in classification task (or --data)", choices: ENCODER_TASKS },
  data: { kind: "string", value: "dir", help: "your own data: a folder with train.jsonl, valid.jsonl, test.jsonl of {\"text\", \"label\"} lines (or --task)" },
} as const satisfies FlagTable;

/** --task or --data, exactly one: the spec's fields (one sentence otherwise). */
export function taskOrData(v: { readonly task: EncoderTask | undefined; readonly data: string | undefined }):
  { task: EncoderTask } | { data: string } {
  if (v.task !== undefined && v.data !== undefined) {
    throw new UserError("--task and --data cannot be given together; use --task for a built-in task or --data for your own folder");
  }
  if (v.task !== undefined) return { task: v.task };
  if (v.data !== undefined) return { data: v.data };
  throw new UserError(`give --task (${ENCODER_TASKS.join(" or ")}) or --data DIR with your own train/valid/test.jsonl`);
}

/** Training-data flags that `finetune` and `sweep` share. */
export const DATA_FLAGS = {
  epochs: { kind: "int", help: "passes over the training split", min: 1, max: L.maxEpochs, default: D.epochs },
  "head-lr": { kind: "number", help: "peak learning rate of the new head `classifier`", min: L.minLr, max: L.maxLr, default: D.headLr },
  "head-init": { kind: "string", help: "where the head starts: random, or probe (the trained linear probe's head: LP-FT)", choices: HEAD_INITS, default: D.headInit },
  limit: { kind: "int", help: "train on a random subsample of this many training examples (default: all)", min: 1, max: L.maxExamples },
  "eval-limit": { kind: "int", help: "evaluate on at most this many validation and test examples (default: all)", min: 1, max: L.maxExamples },
  batch: { kind: "int", help: "batch size", min: 1, max: L.maxBatch, default: D.batch },
} as const satisfies FlagTable;

/** --config and --json, for commands whose runs can be saved as recipes. */
export const CONFIG_FLAG = {
  config: { kind: "string", short: "c", value: "file", setting: false, help: "read settings from a JSON or YAML file keyed by flag name (a run's config.json); flags given here override it" },
} as const satisfies FlagTable;
