// `lorascope finetune --model stories260K|DIR --data F --init init-a --lr 1e-3 ...`: LoRA-finetune a
// causal language model on text and report held-out loss and perplexity before and after. The engine
// and the model are imported inside the run, never at load time (command.ts).
import { UserError } from "../../core/errors.ts";
import type { LmFinetuneSpec } from "../../experiments/lm/spec.ts";
import { LM_FINETUNE_FLAGS, lmRunOptions, lmSettingsOf } from "../lm-flags.ts";
import path from "node:path";
import { parseArgv, parseFlags } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { CONFIG_FILE, resumedRun } from "../run-config.ts";
import { checkLmPath } from "../../io/lm-path.ts";

export interface LmFinetuneConfig {
  readonly spec: LmFinetuneSpec;
  readonly out: string | undefined;
  readonly resume: boolean;
  readonly checkpointEvery: number | undefined;
  readonly json: boolean;
  /** The resolved settings, as config.json holds them. */
  readonly settings: Record<string, unknown>;
}

/** argv (and a --config file) → config; every usage error is found here (exit 2). */
export async function lmFinetuneConfig(argv: readonly string[]): Promise<LmFinetuneConfig> {
  const dir = resumedRun(parseArgv(LM_FINETUNE_FLAGS, argv).given, CONFIG_FILE, "finetune");
  const { values: v, positional } = await parseFlags(LM_FINETUNE_FLAGS, dir === undefined ? argv : [...argv, "--config", path.join(dir, CONFIG_FILE)]);
  if (positional.length > 0) throw new UserError(`finetune takes only flags, got "${positional[0] as string}"`);
  const { lmSpec } = await import("../../experiments/lm/spec.ts");
  const spec = lmSpec({ ...lmRunOptions(v), init: v.init, lr: v.lr, seed: v.seed });
  await checkModelAndOut(spec.model, spec.seqLen, dir === undefined ? v.out : undefined);
  const settings = lmSettingsOf(LM_FINETUNE_FLAGS, v);
  return { spec, out: dir ?? v.out, resume: dir !== undefined, checkpointEvery: v["checkpoint-every"], json: v.json, settings };
}

/** --model names something loadable, --seq-len fits its positions, --out is new or empty. */
export async function checkModelAndOut(model: string, seqLen: number, out: string | undefined): Promise<void> {
  checkLmPath(model);
  const { lmPositionsOf } = await import("../../io/lm-model.ts");
  const positions = await lmPositionsOf(model);
  if (positions !== undefined && seqLen > positions) {
    throw new UserError(`--seq-len ${seqLen} is more than ${model}'s ${positions} positions; give at most ${positions}`);
  }
  if (out !== undefined) {
    const { guardOutDir } = await import("../../io/out-dir.ts");
    await guardOutDir(out, { mode: "fresh", command: "finetune" });
  }
}

const num = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

async function runLmFinetuneCommand(c: LmFinetuneConfig): Promise<number> {
  const { runLmFinetune } = await import("../../experiments/lm/finetune.ts");
  const r = await runLmFinetune(c.spec, {
    ...(c.out === undefined ? {} : { outDir: c.out }),
    resume: c.resume,
    ...(c.checkpointEvery === undefined ? {} : { checkpointEvery: c.checkpointEvery }),
    extraFiles: new Map([[CONFIG_FILE, JSON.stringify(c.settings, null, 2) + "\n"]]),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const summary = {
    model: r.spec.model,
    modelType: r.modelType,
    init: r.spec.init,
    lr: r.spec.lr,
    steps: r.steps,
    targets: r.targets.length,
    train: r.train,
    validation: r.validation,
    test: r.test,
    finalTrainLoss: r.losses.at(-1) ?? null,
    tokensPerSecond: r.tokensPerSecond,
    peakRssMiB: r.peakRssMiB,
    diverged: r.diverged,
    collapsed: r.collapsed,
  };
  if (c.json) {
    process.stdout.write(JSON.stringify(summary) + "\n");
    return 0;
  }
  const outcome = r.diverged ? "DIVERGED" : r.collapsed ? "COLLAPSED (loss above the uniform distribution's ln V)" : "finished";
  const lines = [
    `${r.spec.model}, ${r.spec.init}, lr ${r.spec.lr}, ${r.steps} steps: ${outcome} (${r.tokensPerSecond.toFixed(0)} tokens/s, peak memory ${r.peakRssMiB.toFixed(0)} MiB)`,
  ];
  for (const [name, h] of [["validation", r.validation], ["test", r.test]] as const) {
    if (h === null) continue;
    const after = h.after === null ? "–" : `${num(h.after.loss)} (perplexity ${num(h.after.perplexity, 2)})`;
    lines.push(`${name.padEnd(10)} loss ${num(h.before.loss)} (perplexity ${num(h.before.perplexity, 2)}) → ${after} on ${h.before.tokens} tokens`);
  }
  if (r.validation === null) lines.push(`final training loss ${num(r.losses.at(-1) ?? NaN)} (no held-out set: give --valid)`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}

export function lmFinetuneHelp(): string {
  return commandHelp(
    "Usage: lorascope finetune --model stories260K|DIR --data F|sotu|brown[:genre] --lr <lr> [--init init-a] [--steps N|--epochs N] [options]\n" +
      "       lorascope finetune --resume OUT",
    [
      "Trains LoRA factors of a causal language model (Llama or GPT-2) with AdamW and the causal-LM loss (mean over predicted tokens), reports held-out loss and perplexity before and after (a built-in corpus: its validation and test splits), the per-module dynamics, and with --out writes a PEFT adapter (task_type CAUSAL_LM), run.json, metrics.jsonl (as the run goes) and config.json; the folder is made only once the model, the data and the target modules have been checked. With --out the run keeps OUT/checkpoint (every minute, or every --checkpoint-every steps) until it finishes; `lorascope finetune --resume OUT` continues an interrupted run to the result the uninterrupted run would have had. Progress, with tokens/s, goes to stderr.",
    ],
    LM_FINETUNE_FLAGS,
  );
}

export async function prepareLmFinetune(argv: readonly string[]): Promise<() => Promise<number>> {
  const c = await lmFinetuneConfig(argv);
  return () => runLmFinetuneCommand(c);
}
