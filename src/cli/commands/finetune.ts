// `lorascope finetune --model use-lite --task sentiment --init init-a --lr 1e-3 ...`: LoRA-finetune the
// sentence encoder on a classification task and compare it with a frozen-encoder linear probe.
// The engine and the model are imported inside the run, never at load time (command.ts).
import path from "node:path";
import {
  ENCODER_DEFAULTS,
  ENCODER_LIMITS as L,
  dataName,
  encoderSpec,
  type EncoderFinetuneSpec,
} from "../../experiments/encoder/spec.ts";
import { INIT_SCHEMES, LORA_DEFAULTS } from "../../lora/config.ts";
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseArgv, parseFlags, settingsOf, type FlagTable, type FlagValues } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { CONFIG_FLAG, DATA_FLAGS, MODEL_TASK_FLAGS, taskOrData } from "../encoder-flags.ts";
import { CONFIG_FILE, resumedRun, writeRunConfig } from "../run-config.ts";
import { CHECKPOINT_FLAG, trainFlags, trainOptions } from "../train-flags.ts";
import { guardOutDir } from "../../io/out-dir.ts";
import { wantsLm } from "../lm-flags.ts";
import { lmFinetuneHelp, prepareLmFinetune } from "./finetune-lm.ts";

const D = ENCODER_DEFAULTS;

export const FINETUNE_FLAGS = {
  ...CONFIG_FLAG,
  ...MODEL_TASK_FLAGS,
  init: { kind: "string", help: "adapter initialization", choices: INIT_SCHEMES, default: LORA_DEFAULTS.init_lora_weights },
  lr: { kind: "number", help: "peak learning rate (AdamW, linear warmup and decay)", min: L.minLr, max: L.maxLr, required: true },
  rank: { kind: "int", help: "LoRA rank r (at most the encoder's hidden size)", min: 1, max: L.maxRank, default: D.r },
  alpha: { kind: "number", help: "lora_alpha", positive: true, max: 1e6, default: D.loraAlpha },
  seed: { kind: "int", help: "seed of the split, head, adapter and batch order", min: 0, max: L.maxSeed, default: D.seed },
  ...DATA_FLAGS,
  "warmup-fraction": { kind: "number", help: "share of the steps spent warming up linearly", min: 0, max: 1, default: D.warmupFraction },
  ...trainFlags({ targetModules: D.targetModules, weightDecay: D.weightDecay }),
  "dynamics-every": { kind: "int", help: "measure the LoRA dynamics every this many steps (0: never)", min: 0, max: L.maxDynamicsEvery, default: D.dynamicsEvery },
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "directory for the PEFT adapter, run.json, metrics.jsonl and config.json" },
  ...CHECKPOINT_FLAG,
  resume: { kind: "string", value: "dir", setting: false, help: "continue the interrupted run in this --out folder from its checkpoint (settings from its config.json)" },
  json: { kind: "bool", setting: false, help: "print the result as one JSON document on stdout" },
} as const satisfies FlagTable;

export interface FinetuneConfig {
  readonly spec: EncoderFinetuneSpec;
  readonly out: string | undefined;
  readonly resume: boolean;
  readonly checkpointEvery: number | undefined;
  readonly json: boolean;
  /** The resolved settings, as config.json holds them. */
  readonly settings: Record<string, unknown>;
}

/** Flag values → the library's spec. */
function finetuneSpec(v: FlagValues<typeof FINETUNE_FLAGS>): EncoderFinetuneSpec {
  return {
    ...taskOrData(v),
    ...trainOptions(v),
    init: v.init,
    lr: v.lr,
    r: v.rank,
    loraAlpha: v.alpha,
    seed: v.seed,
    epochs: v.epochs,
    batch: v.batch,
    headLr: v["head-lr"],
    headInit: v["head-init"],
    warmupFraction: v["warmup-fraction"],
    dynamicsEvery: v["dynamics-every"],
    ...(v.limit === undefined ? {} : { limit: v.limit }),
    ...(v["eval-limit"] === undefined ? {} : { evalLimit: v["eval-limit"] }),
  };
}

/** argv (and a --config file) → config; usage errors throw a UserError (tested in test/cli-finetune). */
export async function finetuneConfig(argv: readonly string[]): Promise<FinetuneConfig> {
  const dir = resumedRun(parseArgv(FINETUNE_FLAGS, argv).given, CONFIG_FILE, "finetune");
  const { values: v, positional } = await parseFlags(FINETUNE_FLAGS, dir === undefined ? argv : [...argv, "--config", path.join(dir, CONFIG_FILE)]);
  if (positional.length > 0) throw new UserError(`finetune takes only flags, got "${positional[0] as string}"`);
  if (v["warmup-fraction"] > 1) throw new UserError(`--warmup-fraction must be at most 1, got ${v["warmup-fraction"]}`);
  // encoderSpec's checks (the PEFT config's rules among them) run here, before the model loads.
  const spec = encoderSpec(finetuneSpec(v));
  return {
    spec,
    out: dir ?? v.out,
    resume: dir !== undefined,
    checkpointEvery: v["checkpoint-every"],
    json: v.json,
    settings: settingsOf(FINETUNE_FLAGS, v),
  };
}

/** The last measurement per module (run.json keeps every one). */
function dynamicsTable(
  rows: ReadonlyArray<{
    step: number;
    module: string;
    rmsZA: number;
    rmsZB: number;
    delta1: number;
    delta2: number;
    delta3: number;
  }>,
): string[] {
  const last = rows.at(-1)?.step;
  if (last === undefined) return [];
  const e = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : "–").padStart(9);
  return [
    "",
    `LoRA dynamics at step ${last} on the measuring batch (RMS; δ over the last interval):`,
    `${"module".padEnd(28)}${"Z_A".padStart(9)}${"Z_B".padStart(9)}${"δ¹".padStart(9)}${"δ²".padStart(9)}${"δ³".padStart(9)}`,
    ...rows
      .filter((d) => d.step === last)
      .map((d) => `${d.module.padEnd(28)}${e(d.rmsZA)}${e(d.rmsZB)}${e(d.delta1)}${e(d.delta2)}${e(d.delta3)}`),
  ];
}

async function runFinetune(c: FinetuneConfig): Promise<number> {
  const { runEncoderFinetune } = await import("../../experiments/encoder/finetune.ts");
  // config.json first: an interrupted run is resumed from it.
  if (c.out !== undefined && !c.resume) await writeRunConfig(c.out, c.settings);
  const r = await runEncoderFinetune(c.spec, c.out, (line) => process.stderr.write(`${line}\n`), {
    resume: c.resume,
    ...(c.checkpointEvery === undefined ? {} : { checkpointEvery: c.checkpointEvery }),
  });
  const summary = {
    task: dataName(r.spec),
    init: r.spec.init,
    lr: r.spec.lr,
    validation: r.validation,
    test: r.test,
    probe: r.probe,
    examplesPerSecond: r.examplesPerSecond,
    evalExamplesPerSecond: r.evalExamplesPerSecond,
    peakRssMiB: r.peakRssMiB,
    diverged: r.diverged,
    collapsed: r.collapsed,
    stoppedEarly: r.stoppedEarly,
    bestStep: r.bestStep,
    splits: r.splits,
  };
  if (c.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    process.stdout.write(
      [
        `${dataName(r.spec)}, ${r.spec.init}, lr ${r.spec.lr}: ${r.diverged ? "DIVERGED" : r.collapsed ? "COLLAPSED (one class for every validation example)" : "finished"} (training ${r.examplesPerSecond.toFixed(1)} examples/s, inference ${r.evalExamplesPerSecond.toFixed(1)} examples/s, peak memory ${r.peakRssMiB.toFixed(0)} MiB)`,
        `finetuned  validation ${pct(r.validation.accuracy)} (loss ${r.validation.loss.toFixed(4)}), test ${pct(r.test.accuracy)} (loss ${r.test.loss.toFixed(4)})`,
        `probe      validation ${pct(r.probe.validation.accuracy)}, test ${pct(r.probe.test.accuracy)}`,
        ...dynamicsTable(r.dynamics),
      ].join("\n") + "\n",
    );
  }
  return 0;
}

export const finetune: Command = {
  name: "finetune",
  summary: "LoRA-finetune a causal LM on text (--model stories260K|DIR) or the sentence encoder on a classification task",
  help: () =>
    lmFinetuneHelp() +
    "\n\nThe sentence encoder (--model use-lite):\n\n" +
    commandHelp(
      "Usage: lorascope finetune [--model use-lite] (--task sentiment|spam | --data DIR) --lr <lr> [--init init-a] [options]\n       lorascope finetune --resume OUT",
      [
        "Trains LoRA factors on q/k/v/o_proj and fc1/fc2 of both layers plus a new head `classifier` (saved in full, PEFT modules_to_save), reports validation and test accuracy and loss next to a linear probe on the frozen encoder, and with --out writes a PEFT adapter directory, run.json and config.json (every setting, defaults filled in: `lorascope finetune --config OUT/config.json` reruns it). OUT/metrics.jsonl gets a line per step (loss, lr, gradNorm), per validation (every --eval-every steps) and per dynamics measurement. A run longer than a minute, or any run with --checkpoint-every, keeps OUT/checkpoint; `lorascope finetune --resume OUT` continues it to the result the uninterrupted run would have had. With --early-stop-patience the saved adapter is the one with the lowest validation loss. Progress goes to stderr.",
      ],
      FINETUNE_FLAGS,
    ),
  async prepare(argv) {
    if (await wantsLm(argv)) return prepareLmFinetune(argv);
    const c = await finetuneConfig(argv);
    if (c.out !== undefined) await guardOutDir(c.out, { mode: "fill", command: "finetune" });
    return () => runFinetune(c);
  },
};
