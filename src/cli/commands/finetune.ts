// `lorascope finetune --model use-lite --task sentiment --init init-a --lr 1e-3 ...`: LoRA-finetune the
// sentence encoder on a classification task and compare it with a frozen-encoder linear probe.
import { UserError } from "../../core/errors.ts";
import type { HeadInit } from "../../experiments/encoder/spec.ts";
import { INIT_SCHEMES, type InitScheme } from "../../lora/config.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";
import { DATA_FLAGS, MODEL_TASK_FLAGS, modelAndTask } from "../encoder-flags.ts";


const FLAGS: FlagTable = {
  ...MODEL_TASK_FLAGS,
  init: { kind: "string", help: "adapter initialization", choices: INIT_SCHEMES, defaultText: "init-a" },
  lr: { kind: "number", help: "peak learning rate (AdamW, linear warmup and decay)" },
  rank: { kind: "int", help: "LoRA rank r", defaultText: "8" },
  alpha: { kind: "number", help: "lora_alpha", defaultText: "8" },
  seed: { kind: "int", help: "seed of the split, head, adapter and batch order", defaultText: "0" },
  ...DATA_FLAGS,
  out: { kind: "string", help: "directory for the PEFT adapter and run.json" },
  json: { kind: "bool", help: "print the result as one JSON line on stdout" },
};

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

export const finetune: Command = {
  name: "finetune",
  summary: "LoRA-finetune a pretrained encoder on a classification task (vs a linear probe)",
  help: [
    "Usage: lorascope finetune --model use-lite --task sentiment|spam --lr <lr> [--init init-a] [options]",
    "",
    "Trains LoRA factors on q/k/v/o_proj and fc1/fc2 of both layers plus a new head `classifier`",
    "(saved in full, PEFT modules_to_save), reports validation and test accuracy and loss next to a",
    "linear probe on the frozen encoder, and with --out writes a PEFT adapter directory and run.json.",
    "Progress goes to stderr.",
    "",
    flagHelp(FLAGS),
  ].join("\n"),
  async run(argv) {
    const { flags, positional } = parseFlags(FLAGS, argv);
    if (positional.length > 0) throw new UserError(`finetune takes only flags, got "${positional[0] as string}"`);
    const { task } = modelAndTask(flags);
    if (flags["lr"] === undefined) throw new UserError("--lr is required (for example --lr 1e-3)");
    const { runEncoderFinetune } = await import("../../experiments/encoder/finetune.ts");
    const { ENCODER_DEFAULTS } = await import("../../experiments/encoder/spec.ts");
    const d = ENCODER_DEFAULTS;
    const num = (k: string, dflt: number): number => (flags[k] as number | undefined) ?? dflt;
    const limit = flags["limit"] as number | undefined;
    const evalLimit = flags["eval-limit"] as number | undefined;
    const spec = {
      ...d,
      task,
      init: ((flags["init"] as string | undefined) ?? "init-a") as InitScheme,
      lr: flags["lr"] as number,
      epochs: num("epochs", d.epochs),
      r: num("rank", d.r),
      loraAlpha: num("alpha", d.loraAlpha),
      seed: num("seed", d.seed),
      batch: num("batch", d.batch),
      headLr: num("head-lr", d.headLr),
      headInit: (flags["head-init"] as HeadInit | undefined) ?? d.headInit,
      ...(limit === undefined ? {} : { limit }),
      ...(evalLimit === undefined ? {} : { evalLimit }),
    };
    const out = flags["out"] as string | undefined;
    const r = await runEncoderFinetune(spec, out, (line) => process.stderr.write(`${line}\n`));
    const summary = {
      task: r.spec.task,
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
      splits: r.splits,
    };
    if (flags["json"] === true) process.stdout.write(JSON.stringify(summary) + "\n");
    else {
      const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
      process.stdout.write(
        [
          `${r.spec.task}, ${r.spec.init}, lr ${r.spec.lr}: ${r.diverged ? "DIVERGED" : r.collapsed ? "COLLAPSED (one class for every validation example)" : "finished"} (training ${r.examplesPerSecond.toFixed(1)} examples/s, inference ${r.evalExamplesPerSecond.toFixed(1)} examples/s, peak memory ${r.peakRssMiB.toFixed(0)} MiB)`,
          `finetuned  validation ${pct(r.validation.accuracy)} (loss ${r.validation.loss.toFixed(4)}), test ${pct(r.test.accuracy)} (loss ${r.test.loss.toFixed(4)})`,
          `probe      validation ${pct(r.probe.validation.accuracy)}, test ${pct(r.probe.test.accuracy)}`,
          ...dynamicsTable(r.dynamics),
        ].join("\n") + "\n",
      );
    }
    return 0;
  },
};
