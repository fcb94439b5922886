// The language-model forms of `finetune`, `evaluate` and `sweep`, told from the sentence-encoder forms by
// --model: "use-lite" (or no --model) is the encoder, anything else — "stories260K" or a Hugging
// Face folder — a causal LM. Defaults come from experiments/lm/spec.ts, which is free of engine imports.
import { ALL_LINEAR, LM_DEFAULTS } from "../experiments/lm/spec.ts";
import { INIT_SCHEMES, LORA_DEFAULTS } from "../lora/config.ts";
import { CONFIG_FLAG } from "./encoder-flags.ts";
import { CHECKPOINT_FLAG, trainFlags, trainOptions } from "./train-flags.ts";
import { settingOf, settingsOf, type FlagTable, type FlagValues } from "./flags.ts";
import { UserError } from "../core/errors.ts";
import type { LmFinetuneSpec } from "../experiments/lm/spec.ts";

/** An LM finetune's spec without its axes, as lmRunOptions makes it. */
export type LmRunOptions = Omit<LmFinetuneSpec, "init" | "lr" | "seed">;

const D = LM_DEFAULTS;
export const ENCODER_MODEL = "use-lite";

const MODEL = {
  kind: "string",
  required: true,
  value: "stories260K|dir",
  help: "the causal LM: stories260K (bundled) or a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)",
} as const;
const DATA_HELP = "a .txt or .jsonl file, or a built-in corpus: sotu, brown, brown:<genre>";

const TRAIN = trainFlags({ targetModules: D.targetModules, weightDecay: D.weightDecay });

export const LM_FINETUNE_FLAGS = {
  ...CONFIG_FLAG,
  model: MODEL,
  data: { kind: "string", required: true, value: "file|corpus", help: `training text: ${DATA_HELP}` },
  valid: { kind: "string", value: "file|corpus", help: "held-out text (default: a built-in corpus's validation split; none for a file)" },
  init: { kind: "string", help: "adapter initialization", choices: INIT_SCHEMES, default: LORA_DEFAULTS.init_lora_weights },
  lr: { kind: "number", help: "peak learning rate (AdamW, linear warmup and decay)", min: 1e-12, max: 1e3, required: true },
  steps: { kind: "int", help: "optimizer steps (instead of --epochs)", min: 1, max: 10_000_000 },
  epochs: { kind: "int", help: "passes over the training sequences (default 1 when --steps is not given)", min: 1, max: 10_000 },
  batch: { kind: "int", help: "sequences per batch", min: 1, max: 4096, default: D.batch },
  "seq-len": { kind: "int", help: "longest sequence in tokens (at most the model's positions)", min: 2, max: 1_048_576, default: D.seqLen },
  rank: { kind: "int", help: "LoRA rank r", min: 1, max: 65_536, default: D.r },
  alpha: { kind: "number", help: "lora_alpha", positive: true, max: 1e6, default: D.loraAlpha },
  seed: { kind: "int", help: "seed of the adapter and the batch order", min: 0, max: 2 ** 31 - 1, default: D.seed },
  ...TRAIN,
  "target-modules": {
    ...TRAIN["target-modules"],
    defaultText: `per architecture as PEFT's table: Llama q_proj,v_proj; GPT-2 c_attn. ${ALL_LINEAR}: every linear but the head`,
  },
  "warmup-fraction": { kind: "number", help: "share of the steps spent warming up linearly", min: 0, max: 1, default: D.warmupFraction },
  "dynamics-every": { kind: "int", help: "measure the LoRA dynamics every this many steps (0: never)", min: 0, max: 10_000_000, default: D.dynamicsEvery },
  "eval-limit": { kind: "int", help: "evaluate on the first this many sequences of each held-out set (default: all)", min: 1, max: 100_000_000 },
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "new or empty folder for the PEFT adapter, run.json, metrics.jsonl and config.json" },
  ...CHECKPOINT_FLAG,
  resume: { kind: "string", value: "dir", setting: false, help: "continue the interrupted run in this --out folder from its checkpoint (settings from its config.json)" },
  json: { kind: "bool", setting: false, help: "print the result as one JSON document on stdout" },
} as const satisfies FlagTable;

/** The LM sweep's table: a finetune's options without its axes (init, lr, seed), plus the grid's. */
const {
  init: _init,
  lr: _lr,
  seed: _seed,
  out: _out,
  json: _json,
  "checkpoint-every": _checkpointEvery,
  resume: _resume,
  ...RUN_FLAGS
} = LM_FINETUNE_FLAGS;

/** Every flag of an LM finetune but its axes (init, lr, seed) and where its output goes. */
export const LM_RUN_FLAGS = RUN_FLAGS;

/**
 * The options of an LM finetune that `finetune` and `sweep` share, from their flags (the spec's
 * fields but init, lr and seed); the flag combinations the table cannot refuse are refused here.
 */
export function lmRunOptions(v: FlagValues<typeof LM_RUN_FLAGS>): LmRunOptions {
  if (v.steps !== undefined && v.epochs !== undefined) throw new UserError("give --steps or --epochs, not both");
  if (v["warmup-fraction"] >= 1) throw new UserError(`--warmup-fraction must be below 1, got ${v["warmup-fraction"]}`);
  // Dropout 0 is left out, so a run without it keeps the spec (and a sweep's settings) it had before.
  const { dropout, ...shared } = trainOptions(v);
  return {
    model: v.model,
    data: v.data,
    batch: v.batch,
    seqLen: v["seq-len"],
    r: v.rank,
    loraAlpha: v.alpha,
    warmupFraction: v["warmup-fraction"],
    ...shared,
    ...(dropout > 0 ? { dropout } : {}),
    dynamicsEvery: v["dynamics-every"],
    ...(v.valid === undefined ? {} : { valid: v.valid }),
    ...(v.steps === undefined ? {} : { steps: v.steps }),
    ...(v.epochs === undefined ? {} : { epochs: v.epochs }),
    ...(v["eval-limit"] === undefined ? {} : { evalLimit: v["eval-limit"] }),
  };
}

/** config.json of an LM command: its settings, without an empty --target-modules (a config file cannot hold one). */
export function lmSettingsOf<T extends FlagTable>(table: T, v: FlagValues<T> & { readonly "target-modules": readonly string[] }): Record<string, unknown> {
  const settings: Record<string, unknown> = settingsOf(table, v);
  // No --target-modules means the architecture's default.
  if (v["target-modules"].length === 0) delete settings["target-modules"];
  return settings;
}

export const LM_SWEEP_FLAGS = {
  ...RUN_FLAGS,
  lrs: { kind: "numlist", help: "peak learning rates (required)", min: 1e-12, max: 1e3 },
  inits: { kind: "list", help: "adapter initializations", choices: INIT_SCHEMES, default: ["init-a", "init-b"] },
  seeds: { kind: "int", help: "seeds 0…N−1 (adapter and batch order)", min: 1, max: 10_000, default: 1 },
  workers: { kind: "int", short: "j", setting: false, min: 0, max: 256, help: "worker processes (0 = run in this process)", defaultText: "all cores" },
  out: { kind: "string", short: "o", value: "dir", setting: false, required: true, help: "sweep folder (runs/<id>.json rows, sweep.json, config.json, summary.md, token-cache/; rerunning skips finished runs)" },
  json: { kind: "bool", setting: false, help: "print the analysis as one JSON document on stdout (the table goes to stderr)" },
} as const satisfies FlagTable;

export const LM_EVALUATE_FLAGS = {
  model: MODEL,
  adapter: { kind: "string", value: "dir", help: "a PEFT adapter folder (e.g. finetune's --out) to apply" },
  data: { kind: "string", required: true, value: "file|corpus", help: DATA_HELP },
  split: { kind: "string", choices: ["train", "validation", "test"], default: "test", help: "which split of a built-in corpus" },
  "seq-len": { kind: "int", help: "longest sequence in tokens (at most the model's positions)", min: 2, max: 1_048_576, default: D.seqLen },
  batch: { kind: "int", help: "sequences per batch", min: 1, max: 4096, default: D.batch },
  limit: { kind: "int", help: "evaluate on the first this many sequences (default: all)", min: 1 },
  json: { kind: "bool", setting: false, help: "print the result as one JSON document on stdout" },
} as const satisfies FlagTable;

/** The value of --model in argv, else the `model` of a --config file (or of OUT/config.json after --resume OUT). */
export const modelOf = (argv: readonly string[]): Promise<string | undefined> => settingOf(argv, "model", { resume: true });

/** Does argv ask for the causal-LM form of finetune / evaluate / sweep? (--task belongs to the encoder's.) */
export async function wantsLm(argv: readonly string[]): Promise<boolean> {
  if (argv.some((a) => a === "--task" || a.startsWith("--task="))) return false;
  const m = await modelOf(argv);
  return m !== undefined && m !== ENCODER_MODEL;
}
