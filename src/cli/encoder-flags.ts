// The model and task flags shared by `finetune`, `evaluate` and `sweep` (kept free of engine imports
// so `--help` stays fast).
import { UserError } from "../core/errors.ts";
import type { HeadInit } from "../experiments/encoder/spec.ts"; // a type only: --help stays free of the engine
import type { FlagSpec } from "./flags.ts";
import type { FlagValue } from "./flags.ts";

export const FINETUNE_MODELS = ["use-lite"] as const;
export const TASKS = ["sentiment", "spam"] as const;
export type TaskName = (typeof TASKS)[number];

export const MODEL_TASK_FLAGS = {
  model: { kind: "string", help: "the pretrained model", defaultText: "use-lite" },
  task: { kind: "string", help: `the classification task: ${TASKS.join(", ")}` },
} as const satisfies Record<string, FlagSpec>;

/** Training-data flags that `finetune` and `sweep` share. */
export const DATA_FLAGS = {
  epochs: { kind: "int", help: "passes over the training split", defaultText: "1" },
  "head-lr": { kind: "number", help: "peak learning rate of the new head `classifier`", defaultText: "1e-2" },
  "head-init": {
    kind: "string",
    help: "where the head starts: random, or probe (the trained linear probe's head: LP-FT)",
    choices: ["random", "probe"] satisfies readonly HeadInit[],
    defaultText: "random",
  },
  limit: { kind: "int", help: "train on a random subsample of this many training examples" },
  "eval-limit": { kind: "int", help: "evaluate on at most this many validation and test examples" },
  batch: { kind: "int", help: "batch size", defaultText: "32" },
} as const satisfies Record<string, FlagSpec>;

/** The validated --model and --task, or one sentence saying what is allowed. */
export function modelAndTask(flags: Record<string, FlagValue>): {
  model: (typeof FINETUNE_MODELS)[number];
  task: TaskName;
} {
  const model = (flags["model"] as string | undefined) ?? "use-lite";
  if (!(FINETUNE_MODELS as readonly string[]).includes(model)) {
    throw new UserError(`--model "${model}" is not known; use one of ${FINETUNE_MODELS.join(", ")}`);
  }
  const task = flags["task"] as string | undefined;
  if (task === undefined || !(TASKS as readonly string[]).includes(task)) {
    throw new UserError(
      `--task ${task === undefined ? "is required" : `"${task}" is not known`}; use one of ${TASKS.join(", ")}`,
    );
  }
  return { model: model as (typeof FINETUNE_MODELS)[number], task: task as TaskName };
}
