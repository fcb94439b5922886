// `lorascope pretrain --data sotu --width 128 --out DIR`: train a Llama-architecture decoder from
// scratch on real text and save it as a Hugging Face model folder with pretrain.json (loss curve,
// held-out perplexity, unigram baseline). Resumable with `--resume DIR`. The engine loads inside the
// run, never at load time (command.ts).
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import { PRETRAIN_DEFAULTS as D, PRETRAIN_LIMITS as L, type PretrainInput, type PretrainSpec } from "../../experiments/lm/pretrain-spec.ts";
import type { Command } from "../command.ts";
import { CONFIG_FLAG } from "../encoder-flags.ts";
import { parseArgv, parseFlags, settingsOf, type FlagTable, type FlagValues } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { resumedRun } from "../run-config.ts";
import { exitOnSignal } from "../interrupt.ts";

/** The run's settings beside the model (config.json is the model's own): `--config` of this file reruns it. */
export const PRETRAIN_CONFIG_FILE = "pretrain-config.json";

export const PRETRAIN_FLAGS = {
  ...CONFIG_FLAG,
  data: { kind: "string", required: true, value: "file|corpus", help: "training text: a .txt or .jsonl file, or a built-in corpus (sotu, brown, brown:<genre>; its train split)" },
  valid: { kind: "string", value: "file|corpus", help: "held-out text (default: a built-in corpus's validation split; required for a file)" },
  width: { kind: "int", help: "model width (hidden size)", min: 2, max: L.width, default: D.width },
  layers: { kind: "int", help: "decoder layers", min: 1, max: L.layers, default: D.layers },
  "head-dim": { kind: "int", help: "features per attention head (heads = width / head-dim)", min: 2, max: L.width, default: D.headDim },
  "seq-len": { kind: "int", help: "sequence length in tokens (also the model's positions)", min: 2, max: L.seqLen, default: D.seqLen },
  steps: { kind: "int", help: "optimizer steps", min: 1, max: L.steps, default: D.steps },
  batch: { kind: "int", help: "sequences per batch", min: 1, max: L.batch, default: D.batch },
  lr: { kind: "number", help: "peak learning rate (AdamW, linear warmup, cosine decay)", min: 1e-12, max: 1e3, default: D.lr },
  "warmup-steps": { kind: "int", help: "steps of linear warmup", min: 0, max: L.steps, defaultText: `min(${D.warmupSteps}, steps / 10)` },
  "weight-decay": { kind: "number", help: "AdamW weight decay", min: 0, max: 1e3, default: D.weightDecay },
  seed: { kind: "int", help: "seed of the initial weights and the batch order", min: 0, max: 2 ** 31 - 1, default: D.seed },
  "eval-every": { kind: "int", help: "validate every this many steps (and after the last)", min: 1, max: L.steps, default: D.evalEvery },
  "eval-limit": { kind: "int", help: "validate on the first this many held-out sequences", min: 1, max: L.evalLimit, default: D.evalLimit },
  "checkpoint-every": { kind: "int", setting: false, help: "checkpoint every this many steps (also once a minute)", min: 1, max: L.steps, default: 100 },
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "new or empty folder for the model (HF layout), pretrain.json and metrics.jsonl" },
  resume: { kind: "string", value: "dir", setting: false, help: `continue the interrupted run in this --out folder (settings from its ${PRETRAIN_CONFIG_FILE})` },
  json: { kind: "bool", setting: false, help: "print pretrain.json's contents on stdout" },
} as const satisfies FlagTable;

interface PretrainCommandConfig {
  readonly spec: PretrainSpec;
  readonly out: string;
  readonly resume: boolean;
  readonly checkpointEvery: number;
  readonly json: boolean;
  readonly settings: Record<string, unknown>;
}

function specOf(v: FlagValues<typeof PRETRAIN_FLAGS>): PretrainInput {
  return {
    data: v.data,
    ...(v.valid === undefined ? {} : { valid: v.valid }),
    width: v.width,
    layers: v.layers,
    headDim: v["head-dim"],
    seqLen: v["seq-len"],
    steps: v.steps,
    batch: v.batch,
    lr: v.lr,
    ...(v["warmup-steps"] === undefined ? {} : { warmupSteps: v["warmup-steps"] }),
    weightDecay: v["weight-decay"],
    seed: v.seed,
    evalEvery: v["eval-every"],
    evalLimit: v["eval-limit"],
  };
}

async function pretrainConfig(argv: readonly string[]): Promise<PretrainCommandConfig> {
  const dir = resumedRun(parseArgv(PRETRAIN_FLAGS, argv).given, PRETRAIN_CONFIG_FILE, "pretrain");
  const extraArgs = dir === undefined ? [] : ["--config", path.join(dir, PRETRAIN_CONFIG_FILE)];
  const { values: v, positional } = await parseFlags(PRETRAIN_FLAGS, [...argv, ...extraArgs]);
  if (positional.length > 0) throw new UserError(`pretrain takes only flags, got "${positional[0] as string}"`);
  const out = dir ?? v.out;
  if (out === undefined) throw new UserError("--out is required: the folder the pretrained model is written to");
  const { pretrainSpec } = await import("../../experiments/lm/pretrain-spec.ts");
  return { spec: pretrainSpec(specOf(v)), out, resume: dir !== undefined, checkpointEvery: v["checkpoint-every"], json: v.json, settings: settingsOf(PRETRAIN_FLAGS, v) };
}

async function runPretrainCommand(c: PretrainCommandConfig): Promise<number> {
  const { runPretrain } = await import("../../experiments/lm/pretrain.ts");
  const { ProgressBar } = await import("../../train/progress.ts");
  // Made at the first step, so that reading and tokenizing the text does not count in its rate and ETA.
  let bar: InstanceType<typeof ProgressBar> | undefined;
  let done = 0;
  exitOnSignal(
    "pretrain",
    () => `at step ${done}/${c.spec.steps}; the last checkpoint in ${c.out} is kept: lorascope pretrain --resume ${c.out}`,
  );
  const r = await runPretrain(c.spec, {
    outDir: c.out,
    resume: c.resume,
    extraFiles: new Map([[PRETRAIN_CONFIG_FILE, JSON.stringify(c.settings, null, 2) + "\n"]]),
    checkpointEvery: c.checkpointEvery,
    progress: (line) => process.stderr.write(`${line}\n`),
    onStep: (step, total, loss, tokensPerSecond) => {
      done = step;
      bar ??= new ProgressBar(total, total, "steps");
      bar.update(step, step, false, `loss ${loss.toFixed(3)}, ${tokensPerSecond.toFixed(0)} tokens/s`);
    },
  });
  bar?.done();
  if (c.json) {
    process.stdout.write(JSON.stringify(r) + "\n");
    return 0;
  }
  const final = r.validation.final;
  process.stdout.write(
    [
      `pretrained ${c.out}: width ${r.spec.width}, ${r.spec.layers} layers, ${(r.parameters / 1e6).toFixed(2)} M parameters, ${r.steps} steps` +
        (r.diverged ? " (diverged)" : ""),
      `validation perplexity ${final === null ? "–" : final.perplexity.toFixed(2)} (unigram baseline ${r.validation.unigram.perplexity.toFixed(2)}) on ${r.validation.description}`,
      `${r.tokensPerSecond.toFixed(0)} training tokens/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
    ].join("\n") + "\n",
  );
  return r.diverged ? 1 : 0;
}

export const pretrain: Command = {
  name: "pretrain",
  summary: "train a small Llama from scratch on real text and save it as a Hugging Face folder",
  help: () =>
    commandHelp(
      "Usage: lorascope pretrain --data sotu|brown|FILE [--valid FILE] [--width 128] [--layers 2] [options] --out DIR\n" +
        "       lorascope pretrain --resume DIR",
      [
        "Every weight is trained with AdamW (linear warmup, cosine decay) on the causal-LM loss. The tokenizer is the bundled " +
          "stories260K's 512-piece SentencePiece model for every width, so models of one family see the same tokens. The head " +
          "dimension is fixed and the head count follows the width; the MLP is 8/3 of the width (rounded up to 32), the embedding " +
          "is tied to the head. DIR receives config.json, model.safetensors and the tokenizer files (transformers and " +
          `lorascope load it), pretrain.json (loss curve, validation perplexity beside a unigram baseline's), metrics.jsonl and ` +
          `${PRETRAIN_CONFIG_FILE}. A checkpoint is kept while training; after Ctrl-C or a kill, --resume DIR continues to the ` +
          "result the uninterrupted run would have had. Progress goes to stderr.",
      ],
      PRETRAIN_FLAGS,
    ),
  async prepare(argv) {
    const c = await pretrainConfig(argv);
    const { guardOutDir } = await import("../../io/out-dir.ts");
    if (!c.resume) {
      const { checkEmptyOut } = await import("../../io/atomic.ts");
      await checkEmptyOut(c.out);
    }
    await guardOutDir(c.out, { mode: "fill", command: "pretrain" });
    return () => runPretrainCommand(c);
  },
};
