// `lorascope sweep --model stories260K|DIR --data F --lrs 1e-3,5e-3 --inits init-a,init-b --seeds 2 …`:
// the learning-rate × init × seed grid of LoRA finetunes of a causal LM, each run the same code path
// as `lorascope finetune --model …` (runLmFinetune), in parallel worker processes and resumable
// (finished runs are skipped). The texts are tokenized once per sweep (OUT/token-cache). Then η* per
// init on validation perplexity, the perplexities at η* over seeds and the paired init differences.
// Engine, model and analysis are imported inside the run (command.ts).
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import type { LmSweepSpec } from "../../experiments/lm/sweep.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { guardOutDir } from "../../io/out-dir.ts";
import { parseFlags } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { exitOnInterrupt } from "../interrupt.ts";
import { LM_SWEEP_FLAGS, lmRunOptions, lmSettingsOf } from "../lm-flags.ts";
import { writeRunConfig } from "../run-config.ts";
import { checkModelAndOut } from "./finetune-lm.ts";

export const SUMMARY_FILE = "summary.md";

/** A parsed `sweep` command line, either form: the study's spec and where and how to run it. */
export interface SweepCommandConfig<S> {
  readonly spec: S;
  readonly out: string;
  readonly workers: number | undefined;
  readonly json: boolean;
  /** The resolved settings, as config.json holds them. */
  readonly settings: Record<string, unknown>;
}

export type LmSweepConfig = SweepCommandConfig<LmSweepSpec>;

/** argv (and a --config file) → config; every usage error is found here (exit 2). */
export async function lmSweepConfig(argv: readonly string[]): Promise<LmSweepConfig> {
  const { values: v, positional } = await parseFlags(LM_SWEEP_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`sweep takes only flags, got "${positional[0] as string}"`);
  if (v.lrs === undefined) throw new UserError("give --lrs, the learning rates to sweep (e.g. --lrs 1e-3,5e-3)");
  const lrs = [...v.lrs].sort((a, b) => a - b);
  const spec: LmSweepSpec = { ...lmRunOptions(v), lrs, inits: v.inits, seeds: v.seeds };
  // Every cell's spec is checked (lmSpec) before anything is loaded or written.
  const { lmSweepRuns } = await import("../../experiments/lm/sweep.ts");
  lmSweepRuns(spec);
  await checkModelAndOut(spec.model, v["seq-len"], undefined);
  return { spec, out: v.out, workers: v.workers, json: v.json, settings: lmSettingsOf(LM_SWEEP_FLAGS, v) };
}

async function runLmSweepCommand(c: LmSweepConfig): Promise<number> {
  const { spec, out } = c;
  const { runLmSweep } = await import("../../experiments/lm/sweep.ts");
  const { analyzeLmSweep, formatLmSweep, lmSweepJson } = await import("../../analysis/lm-sweep.ts");
  let saved = 0;
  let total = spec.lrs.length * spec.inits.length * spec.seeds;
  exitOnInterrupt("sweep", out, () => ({ saved, total }));
  const log = (line: string): void => void process.stderr.write(`sweep: ${line}\n`);
  const res = await runLmSweep(spec, out, {
    ...(c.workers === undefined ? {} : { workers: c.workers }),
    progress: log,
    onRun: (done, all) => {
      [saved, total] = [done, all];
      log(`${done}/${all} runs done`);
    },
  });
  // Written after the library has accepted OUT (a folder holding another sweep's settings is refused).
  await writeRunConfig(out, c.settings);
  log(`${res.runsTotal} runs (${res.runsSkipped} already done) in ${res.seconds.toFixed(1)} s; rows in ${out}/runs`);
  const summary = analyzeLmSweep(res.rows);
  const table = formatLmSweep(summary, `${spec.model} on ${spec.data}: ${spec.inits.join(" vs ")}, ${spec.seeds} seed(s)`);
  await writeFileAtomic(path.join(out, SUMMARY_FILE), table);
  // With --json, stdout holds the one JSON document (so `| jq` works) and the table goes to stderr.
  if (c.json) {
    process.stderr.write(table);
    process.stdout.write(lmSweepJson(summary) + "\n");
  } else process.stdout.write(table);
  return 0;
}

export function lmSweepHelp(): string {
  return commandHelp(
    "Usage: lorascope sweep --model stories260K|DIR --data F|sotu|brown[:genre] --lrs a,b,c [--inits init-a,init-b] [--seeds N] [--steps N|--epochs N] --out DIR [options]",
    [
      "Runs every (lr, init, seed) LoRA finetune of the causal LM not yet in OUT/runs — each the same run as `lorascope finetune --model …` — one worker process per core, after tokenizing the texts once into OUT/token-cache. A diverged or collapsed run is a row like any other. Then picks η* per init on mean validation perplexity and reports validation and test perplexity at η* (mean ± std over seeds) and each init pair's difference paired by seed, on stdout and in OUT/summary.md. OUT/config.json records every setting; `lorascope sweep --config OUT/config.json -o OUT` reruns the sweep (finished runs are skipped). Progress goes to stderr.",
    ],
    LM_SWEEP_FLAGS,
  );
}

export async function prepareLmSweep(argv: readonly string[]): Promise<() => Promise<number>> {
  const c = await lmSweepConfig(argv);
  await guardOutDir(c.out, { mode: "fill", command: "sweep" });
  return () => runLmSweepCommand(c);
}
