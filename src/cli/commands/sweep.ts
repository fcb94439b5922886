// `lorascope sweep --model use-lite --task sentiment --lrs 3e-4,1e-3,3e-3 --inits init-a,init-b --seeds 2`:
// the learning-rate × init × seed grid of LoRA finetunes of the sentence encoder, run in parallel
// worker processes and resumable (finished runs are skipped), then η* per init on validation
// accuracy, test accuracy at η* over seeds, and the linear probe. Engine, model and analysis are
// imported inside the run (command.ts).
import { ENCODER_DEFAULTS, ENCODER_LIMITS as L, ENCODER_SWEEP_DEFAULTS, dataName } from "../../experiments/encoder/spec.ts";
import type { EncoderSweepSpec } from "../../experiments/encoder/sweep.ts";
import { INIT_SCHEMES } from "../../lora/config.ts";
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseFlags, settingsOf, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { exitOnInterrupt } from "../interrupt.ts";
import { writeRunConfig } from "../run-config.ts";
import { guardOutDir } from "../../io/out-dir.ts";
import { CONFIG_FLAG, DATA_FLAGS, MODEL_TASK_FLAGS, taskOrData } from "../encoder-flags.ts";
import { trainFlags, trainOptions } from "../train-flags.ts";
import type { QueueTarget } from "../../experiments/queue/url.ts";
import { QUEUE_FLAG, queueNote, queueTarget } from "../queue-flags.ts";
import { wantsLm } from "../lm-flags.ts";
import { lmSweepHelp, prepareLmSweep, type SweepCommandConfig } from "./sweep-lm.ts";

export const SWEEP_FLAGS = {
  ...CONFIG_FLAG,
  ...MODEL_TASK_FLAGS,
  lrs: { kind: "numlist", help: "peak learning rates", min: L.minLr, max: L.maxLr, default: ENCODER_SWEEP_DEFAULTS.lrs },
  inits: { kind: "list", help: "adapter initializations", choices: INIT_SCHEMES, default: ENCODER_SWEEP_DEFAULTS.inits },
  seeds: { kind: "int", help: "seeds 0…N−1 (split, head, adapter, batch order)", min: 1, max: L.maxSeeds, default: ENCODER_SWEEP_DEFAULTS.seeds },
  ...DATA_FLAGS,
  ...trainFlags({ targetModules: ENCODER_DEFAULTS.targetModules, weightDecay: ENCODER_DEFAULTS.weightDecay }),
  workers: { kind: "int", short: "j", setting: false, min: 0, max: 256, help: "worker processes (0 = run in this process)", defaultText: "all cores" },
  ...QUEUE_FLAG,
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "sweep directory (runs/<id>.json rows, sweep.json, config.json; rerunning skips finished runs)", defaultText: "sweep-use-<task>" },
  json: { kind: "bool", setting: false, help: "print the analysis as one JSON document on stdout (the table goes to stderr)" },
} as const satisfies FlagTable;

export interface SweepConfig extends SweepCommandConfig<EncoderSweepSpec> {
  /** The job queue the runs go through, or undefined for local processes. */
  readonly queue: QueueTarget | undefined;
  readonly queueUrl: string | undefined;
}

/** argv (and a --config file) → config; usage errors throw a UserError. */
export async function sweepConfig(argv: readonly string[]): Promise<SweepConfig> {
  const { values: v, positional } = await parseFlags(SWEEP_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`sweep takes only flags, got "${positional[0] as string}"`);
  const source = taskOrData(v);
  const spec: EncoderSweepSpec = {
    ...source,
    ...trainOptions(v),
    lrs: [...new Set(v.lrs)].sort((a, b) => a - b),
    inits: [...new Set(v.inits)],
    seeds: v.seeds,
    epochs: v.epochs,
    headLr: v["head-lr"],
    headInit: v["head-init"],
    batch: v.batch,
    ...(v.limit === undefined ? {} : { limit: v.limit }),
    ...(v["eval-limit"] === undefined ? {} : { evalLimit: v["eval-limit"] }),
  };
  const { encoderSpec } = await import("../../experiments/encoder/spec.ts");
  encoderSpec({ ...spec, init: spec.inits[0] ?? "init-a", lr: spec.lrs[0] ?? 1 }); // options checked before work
  return { spec, out: v.out ?? `sweep-use-${"task" in source ? source.task : dataName(source)}`, workers: v.workers, json: v.json, queue: queueTarget(v.queue), queueUrl: v.queue, settings: settingsOf(SWEEP_FLAGS, v) };
}

async function runSweep(c: SweepConfig): Promise<number> {
  const { spec, out } = c;
  const { truncationNote } = await import("../../experiments/encoder/finetune.ts");
  const { runEncoderSweep } = await import("../../experiments/encoder/sweep.ts");
  const { analyzeEncoderSweep, formatEncoderSweep, encoderSweepJson } = await import("../../analysis/encoder-sweep.ts");
  let saved = 0;
  let total = spec.lrs.length * spec.inits.length * spec.seeds;
  exitOnInterrupt("sweep", out, () => ({ saved, total }));
  if (c.queue !== undefined) process.stderr.write(queueNote("sweep", c.queue, c.queueUrl ?? ""));
  const res = await runEncoderSweep(spec, out, {
    ...(c.workers === undefined ? {} : { workers: c.workers }),
    ...(c.queue === undefined ? {} : { queue: c.queue }),
    onRun: (done, all) => {
      [saved, total] = [done, all];
      process.stderr.write(`sweep: ${done}/${all} runs done\n`);
    },
  });
  // Written after the library has accepted OUT (a folder holding another sweep's settings is refused).
  await writeRunConfig(out, c.settings);
  process.stderr.write(`sweep: ${res.runsTotal} runs (${res.runsSkipped} already done) in ${res.seconds.toFixed(1)} s; rows in ${out}/runs\n`);
  const summary = analyzeEncoderSweep(res.rows);
  if (summary.truncated > 0) process.stderr.write(`${truncationNote(summary.truncated, true)}\n`);
  const table = formatEncoderSweep(summary, `use-lite ${dataName(spec)}: ${spec.inits.join(" vs ")}, ${spec.seeds} seed(s)`);
  // With --json, stdout holds the one JSON document (so `| jq` works) and the table goes to stderr.
  if (c.json) {
    process.stderr.write(table);
    process.stdout.write(encoderSweepJson(summary) + "\n");
  } else process.stdout.write(table);
  return 0;
}

export const sweep: Command = {
  name: "sweep",
  summary: "LR × init × seed sweep of LoRA finetunes of a causal LM (--model stories260K|DIR) or the sentence encoder (parallel, resumable)",
  help: () =>
    lmSweepHelp() +
    "\n\nThe sentence encoder (--model use-lite):\n\n" +
    commandHelp(
      "Usage: lorascope sweep [--model use-lite] (--task sentiment|spam | --data DIR) [--lrs a,b,c] [--inits init-a,init-b] [--seeds N] [options]",
      [
        "Runs every (lr, init, seed) finetune not yet in OUT/runs, one worker process per core, then picks η* per init on mean validation accuracy and reports the test accuracy at η* (mean ± std over seeds) next to the frozen-encoder linear probe. OUT/config.json records every setting; `lorascope sweep --config OUT/config.json` reruns the sweep (finished runs are skipped). With --queue, the runs go to a Redis job queue served by `lorascope worker` on any number of machines. Progress goes to stderr.",
      ],
      SWEEP_FLAGS,
    ),
  async prepare(argv) {
    if (await wantsLm(argv)) return prepareLmSweep(argv);
    const c = await sweepConfig(argv);
    // Every run's spec is checked before the folder is touched (a rejected sweep writes nothing).
    const { sweepRuns } = await import("../../experiments/encoder/sweep.ts");
    sweepRuns(c.spec);
    await guardOutDir(c.out, { mode: "fill", command: "sweep" });
    return () => runSweep(c);
  },
};
