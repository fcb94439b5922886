// `lorascope sweep --model use-lite --task sentiment --lrs 3e-4,1e-3,3e-3 --inits init-a,init-b --seeds 2`:
// the learning-rate × init × seed grid of LoRA finetunes of the sentence encoder, run in parallel
// worker processes and resumable (finished runs are skipped), then η* per init on validation
// accuracy, test accuracy at η* over seeds, and the linear probe.
import { UserError } from "../../core/errors.ts";
import type { HeadInit } from "../../experiments/encoder/spec.ts";
import { INIT_SCHEMES, type InitScheme } from "../../lora/config.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";
import { exitOnInterrupt } from "../interrupt.ts";
import { DATA_FLAGS, MODEL_TASK_FLAGS, modelAndTask } from "../encoder-flags.ts";

const DEFAULT_LRS = [3e-4, 1e-3, 3e-3];

const FLAGS: FlagTable = {
  ...MODEL_TASK_FLAGS,
  lrs: { kind: "numlist", help: "peak learning rates", defaultText: DEFAULT_LRS.join(",") },
  inits: { kind: "list", help: "adapter initializations", choices: INIT_SCHEMES, defaultText: "init-a,init-b" },
  seeds: { kind: "int", help: "seeds 0…N−1 (split, head, adapter, batch order)", defaultText: "1" },
  ...DATA_FLAGS,
  workers: { kind: "int", help: "worker processes (0 = run in this process)", defaultText: "all cores" },
  out: {
    kind: "string",
    help: "sweep directory (runs/<id>.json rows; rerunning skips finished runs)",
    defaultText: "sweep-use-<task>",
  },
  json: { kind: "bool", help: "print the analysis as one JSON line, last on stdout" },
};

export const sweep: Command = {
  name: "sweep",
  summary: "LR × init × seed sweep of LoRA finetunes of a pretrained encoder (parallel, resumable)",
  help: [
    "Usage: lorascope sweep --model use-lite --task sentiment|spam [--lrs a,b,c] [--inits init-a,init-b] [--seeds N] [options]",
    "",
    "Runs every (lr, init, seed) finetune not yet in OUT/runs, one worker process per core, then",
    "picks η* per init on mean validation accuracy and reports the test accuracy at η* (mean ± std",
    "over seeds) next to the frozen-encoder linear probe. Progress goes to stderr.",
    "",
    flagHelp(FLAGS),
  ].join("\n"),
  async run(argv) {
    const { flags, positional } = parseFlags(FLAGS, argv);
    if (positional.length > 0) throw new UserError(`sweep takes only flags, got "${positional[0] as string}"`);
    const { task } = modelAndTask(flags);
    const lrs = (flags["lrs"] as number[] | undefined) ?? DEFAULT_LRS;
    const bad = lrs.find((lr) => !(lr > 0));
    if (bad !== undefined) throw new UserError(`--lrs values must be positive numbers, got ${bad}`);
    for (const k of ["seeds", "epochs", "batch", "limit", "eval-limit"]) {
      const v = flags[k] as number | undefined;
      if (v !== undefined && v < 1) throw new UserError(`--${k} must be a positive integer, got ${v}`);
    }
    const workers = flags["workers"] as number | undefined;
    if (workers !== undefined && workers < 0) throw new UserError(`--workers must be 0 or more, got ${workers}`);
    const { truncationNote } = await import("../../experiments/encoder/finetune.ts");
    const { ENCODER_DEFAULTS } = await import("../../experiments/encoder/spec.ts");
    const limit = flags["limit"] as number | undefined;
    const evalLimit = flags["eval-limit"] as number | undefined;
    const spec = {
      task: task,
      lrs: [...new Set(lrs)].sort((a, b) => a - b),
      inits: [...new Set((flags["inits"] as string[] | undefined) ?? ["init-a", "init-b"])] as InitScheme[],
      seeds: (flags["seeds"] as number | undefined) ?? 1,
      epochs: (flags["epochs"] as number | undefined) ?? ENCODER_DEFAULTS.epochs,
      headLr: (flags["head-lr"] as number | undefined) ?? ENCODER_DEFAULTS.headLr,
      headInit: (flags["head-init"] as HeadInit | undefined) ?? ENCODER_DEFAULTS.headInit,
      batch: (flags["batch"] as number | undefined) ?? ENCODER_DEFAULTS.batch,
      ...(limit === undefined ? {} : { limit }),
      ...(evalLimit === undefined ? {} : { evalLimit }),
    };
    const out = (flags["out"] as string | undefined) ?? `sweep-use-${task}`;
    const { runEncoderSweep } = await import("../../experiments/encoder/sweep.ts");
    const { analyzeEncoderSweep, formatEncoderSweep, encoderSweepJson } =
      await import("../../analysis/encoder-sweep.ts");
    let saved = 0;
    let total = spec.lrs.length * spec.inits.length * spec.seeds;
    exitOnInterrupt("sweep", out, () => ({ saved, total }));
    const res = await runEncoderSweep(spec, out, {
      ...(workers === undefined ? {} : { workers }),
      onRun: (done, all) => {
        [saved, total] = [done, all];
        process.stderr.write(`sweep: ${done}/${all} runs done\n`);
      },
    });
    process.stderr.write(
      `sweep: ${res.runsTotal} runs (${res.runsSkipped} already done) in ${res.seconds.toFixed(1)} s; rows in ${out}/runs\n`,
    );
    const summary = analyzeEncoderSweep(res.rows);
    if (summary.truncated > 0) process.stderr.write(`${truncationNote(summary.truncated, true)}\n`);
    process.stdout.write(
      formatEncoderSweep(summary, `use-lite ${task}: ${spec.inits.join(" vs ")}, ${spec.seeds} seed(s)`),
    );
    if (flags["json"] === true) process.stdout.write(encoderSweepJson(summary) + "\n");
    return 0;
  },
};
