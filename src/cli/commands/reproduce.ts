// `lorascope reproduce`: the toy Init[A] vs Init[B] learning-rate-vs-width sweep (Hayou, Ghosh & Yu
// 2024 §toy, protocol in experiments/toy/spec.ts), then the analysis of its rows.
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import { TOY_DEFAULTS, TOY_INITS, TOY_LIMITS, TOY_OPTIMIZERS, TOY_QUICK, toySpec, type ToySpec } from "../../experiments/toy/spec.ts";
import { lrsText, parseLrs } from "../lr-grid.ts";

export { parseLrs };
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { exitOnInterrupt } from "../interrupt.ts";
import { CONFIG_FLAG } from "../encoder-flags.ts";
import { guardOutDir } from "../../io/out-dir.ts";
import { lmStudyHelp, prepareLmStudy, STUDY_FLAG, studyOf } from "./reproduce-lm.ts";
import type { QueueTarget } from "../../experiments/queue/url.ts";
import { QUEUE_FLAG, queueNote, queueTarget } from "../queue-flags.ts";

const Q = TOY_QUICK;

export const REPRODUCE_FLAGS = {
  ...CONFIG_FLAG,
  ...STUDY_FLAG,
  widths: { kind: "intlist", help: "student widths n", min: 1, max: TOY_LIMITS.maxWidth, default: TOY_DEFAULTS.widths },
  lrs: { kind: "string", help: "learning rates: a list a,b,c or min:max:count (log-spaced; each may be written 2^k)", default: lrsText(TOY_DEFAULTS.lrs) },
  seeds: { kind: "int", help: "number of seeds (0…N−1)", min: 1, max: TOY_LIMITS.maxSeeds, default: TOY_DEFAULTS.seeds.length },
  steps: { kind: "int", help: "Adam steps per run (full batch)", min: 1, max: TOY_LIMITS.maxSteps, default: TOY_DEFAULTS.steps },
  rank: { kind: "int", help: "LoRA rank r (lora_alpha = r; at most the smallest width)", min: 1, max: TOY_LIMITS.maxRank, default: TOY_DEFAULTS.r },
  optimizer: { kind: "string", help: "optimizer", choices: TOY_OPTIMIZERS, default: TOY_DEFAULTS.optimizer },
  inits: { kind: "list", help: "adapter inits to compare", choices: TOY_INITS, default: TOY_DEFAULTS.inits },
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "output folder", default: "lorascope-out" },
  json: { kind: "bool", setting: false, help: "print one JSON summary document on stdout; no progress" },
  quick: {
    kind: "bool",
    short: "q",
    help: `a small grid (${Q.widths?.length} widths, ${Q.lrs?.length} learning rates, ${Q.seeds?.length} seeds, ${Q.steps} steps), about a minute; flags given with it override it`,
  },
  "log-every": { kind: "int", help: "write step rows every K steps", min: 1, max: TOY_LIMITS.maxSteps, default: TOY_DEFAULTS.logEvery },
  workers: { kind: "int", short: "j", setting: false, min: 0, max: 256, help: "parallel worker processes (0 = in this process)", defaultText: "all cores" },
  ...QUEUE_FLAG,
  "save-state": {
    kind: "bool",
    help: "also write per-run replay files (frozen weights, data, A₀/B₀, final PEFT adapter, run.json) to OUT/state; see docs/replay.md",
  },
  "one-at-a-time": { kind: "bool", help: "advanced, for benchmarks: train runs one per step call instead of batched (same results, slower)" },
} as const satisfies FlagTable;

export interface ReproduceConfig {
  readonly spec: ToySpec;
  readonly out: string;
  readonly json: boolean;
  readonly workers: number | undefined;
  readonly saveState: boolean;
  /** The job queue the runs go through, or undefined for local processes. */
  readonly queue: QueueTarget | undefined;
  /** --queue as given (for the hint on starting workers). */
  readonly queueUrl: string | undefined;
}

/** argv (and a --config file) → config; usage errors throw a UserError (tested in test/cli-reproduce.test.ts). */
export async function reproduceConfig(argv: readonly string[]): Promise<ReproduceConfig> {
  const { values: v, positional, given } = await parseFlags(REPRODUCE_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`reproduce takes no positional arguments, got "${positional[0]}"`);
  // Only what was given goes into the partial spec: --quick's grid, then toySpec's defaults, fill the rest.
  const partial: { -readonly [K in keyof ToySpec]?: ToySpec[K] } = v.quick ? { ...TOY_QUICK } : {};
  if (given.has("widths")) partial.widths = v.widths;
  if (given.has("lrs")) partial.lrs = parseLrs(v.lrs);
  if (given.has("seeds")) partial.seeds = Array.from({ length: v.seeds }, (_, i) => i);
  if (given.has("steps")) partial.steps = v.steps;
  if (given.has("rank")) {
    partial.r = v.rank;
    partial.alpha = v.rank;
  }
  if (given.has("optimizer")) partial.optimizer = v.optimizer;
  if (given.has("inits")) partial.inits = v.inits;
  if (given.has("log-every")) partial.logEvery = v["log-every"];
  if (v["one-at-a-time"]) partial.batchAdapters = false;
  const queue = queueTarget(v.queue);
  if (queue !== undefined && v["save-state"]) {
    throw new UserError("--save-state writes replay files where each run trains, so it cannot be used with --queue; leave one out");
  }
  return { spec: toySpec(partial), out: path.resolve(v.out), json: v.json, workers: v.workers, saveState: v["save-state"], queue, queueUrl: v.queue };
}

async function runReproduce(cfg: ReproduceConfig): Promise<number> {
  // The engine, the analysis and the figures load here, not with the command table.
  const { analyzeSweep, formatSummary, summaryJson } = await import("../../analysis/index.ts");
  const { runCoordCheck } = await import("../../experiments/coordcheck.ts");
  const { runToySweep } = await import("../../experiments/toy/runner.ts");
  const { writeReport } = await import("../../report/index.ts");
  const { ProgressBar } = await import("../../train/progress.ts");
  const { spec } = cfg;
  const total = spec.widths.length * spec.seeds.length * spec.inits.length * spec.lrs.length;
  const bar = new ProgressBar(total, 1, "runs", { silent: cfg.json });
  let saved = 0;
  exitOnInterrupt("reproduce", cfg.out, () => ({ saved, total }));
  if (cfg.queue !== undefined && !cfg.json) process.stderr.write(queueNote("reproduce", cfg.queue, cfg.queueUrl ?? ""));
  const result = await runToySweep(spec, cfg.out, {
    ...(cfg.workers === undefined ? {} : { workers: cfg.workers }),
    ...(cfg.queue === undefined ? {} : { queue: cfg.queue }),
    saveState: cfg.saveState,
    onProgress: (p) => {
      saved = p.runsDone;
      bar.update(p.runsDone, p.workFraction);
    },
  });
  bar.done(
    cfg.json
      ? ""
      : `${result.runsTotal} runs (${result.runsSkipped} already done) in ${result.seconds.toFixed(1)} s → ${path.join(cfg.out, "runs")}`,
  );
  const analysis = analyzeSweep(result.rows);
  // The theory check (a few seconds) goes into the same report as table (e).
  const coordCheck = runCoordCheck();
  const files = await writeReport(cfg.out, { rows: result.rows, analysis, coordCheck, spec });
  if (cfg.json) {
    process.stdout.write(JSON.stringify({ ...summaryJson(analysis), report: files.html }) + "\n");
  } else {
    process.stdout.write(formatSummary(analysis) + "\n");
    process.stdout.write(`report: ${files.html}\nsummary: ${files.markdown}\nfigures: ${path.dirname(files.svgs[0] ?? files.html)}\n`);
  }
  return 0;
}

export const reproduce: Command = {
  name: "reproduce",
  summary: "the paper's width study: optimal learning rate vs width for Init[A] and Init[B] (toy, or --study lm), with analysis",
  help: () =>
    commandHelp(
      "Usage: lorascope reproduce [--quick] [options]",
      [
        "Trains LoRA adapters on a toy teacher–student task over a grid of widths × learning rates × seeds × inits, writes one row per observation to OUT/runs/*.jsonl (resumable: rerunning skips finished runs), then fits the optimal learning rate's width exponent per init. With --save-state, every run also gets a replay folder OUT/state/<init>_n<width>_lr<lr>_s<seed>/ (docs/replay.md). With --queue, the runs go to a Redis job queue served by `lorascope worker` on any number of machines; interrupting leaves them queued, and rerunning collects what finished.",
      ],
      REPRODUCE_FLAGS,
    ) +
    "\n\nThe language-model study (--study lm):\n\n" +
    lmStudyHelp(),
  async prepare(argv) {
    if ((await studyOf(argv)) === "lm") return prepareLmStudy(argv);
    const cfg = await reproduceConfig(argv);
    await guardOutDir(cfg.out, { mode: "fill", command: "reproduce" });
    return () => runReproduce(cfg);
  },
};
