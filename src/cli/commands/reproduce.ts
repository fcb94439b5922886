// `lorascope reproduce`: the toy Init[A] vs Init[B] learning-rate-vs-width sweep (Hayou, Ghosh & Yu
// 2024 §toy, protocol in experiments/toy/spec.ts), then the analysis of its rows.
import path from "node:path";
import { UserError, check } from "../../core/errors.ts";
import { analyzeSweep, formatSummary, summaryJson } from "../../analysis/index.ts";
import { runCoordCheck } from "../../experiments/coordcheck.ts";
import { runToySweep } from "../../experiments/toy/runner.ts";
import { writeReport } from "../../report/index.ts";
import { TOY_INITS, TOY_OPTIMIZERS, TOY_QUICK, logSpaced, toySpec, type ToySpec } from "../../experiments/toy/spec.ts";
import type { InitScheme } from "../../lora/config.ts";
import { ProgressBar } from "../../train/progress.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";
import { exitOnInterrupt } from "../interrupt.ts";

export const REPRODUCE_FLAGS = {
  widths: { kind: "intlist", help: "student widths n", defaultText: "64,128,…,4096" },
  lrs: {
    kind: "string",
    help: "learning rates: a list a,b,c or min:max:count (log-spaced)",
    defaultText: "2^-14:2^-1:16",
  },
  seeds: { kind: "int", help: "number of seeds (0…N−1)", defaultText: "3" },
  steps: { kind: "int", help: "Adam steps per run (full batch)", defaultText: "50" },
  rank: { kind: "int", help: "LoRA rank r (lora_alpha = r)", defaultText: "4" },
  optimizer: { kind: "string", help: "optimizer", choices: TOY_OPTIMIZERS, defaultText: "adam" },
  inits: { kind: "list", help: "adapter inits to compare", choices: TOY_INITS, defaultText: "init-a,init-b" },
  out: { kind: "string", help: "output folder", defaultText: "./lorascope-out" },
  json: { kind: "bool", help: "print one JSON summary object as the last stdout line; no progress" },
  quick: { kind: "bool", help: "a small grid (3 widths, 5 learning rates, 2 seeds, 30 steps), about a minute" },
  "log-every": { kind: "int", help: "write step rows every K steps", defaultText: "10" },
  workers: { kind: "int", help: "parallel worker processes (0 = in this process)", defaultText: "all cores" },
  "save-state": {
    kind: "bool",
    help: "also write per-run replay files (frozen weights, data, A₀/B₀, final PEFT adapter, run.json) to OUT/state; see docs/replay.md",
  },
  "one-at-a-time": {
    kind: "bool",
    help: "advanced, for benchmarks: train runs one per step call instead of batched (same results, slower)",
  },
} as const satisfies FlagTable;

export interface ReproduceConfig {
  readonly spec: ToySpec;
  readonly out: string;
  readonly json: boolean;
  readonly workers: number | undefined;
  readonly saveState: boolean;
}

/** Parse "a,b,c" or "min:max:count" (each number may be written 2^-k). */
export function parseLrs(raw: string): number[] {
  const num = (s: string): number => {
    const t = s.trim();
    const pow = /^2\^(-?\d+(?:\.\d+)?)$/.exec(t);
    const v = pow ? 2 ** Number(pow[1]) : t === "" ? NaN : Number(t);
    check(Number.isFinite(v) && v > 0, `--lrs values must be positive numbers (or 2^k), got "${s}"`);
    return v;
  };
  if (raw.includes(":")) {
    const parts = raw.split(":");
    check(parts.length === 3, `--lrs range must be min:max:count, got "${raw}"`);
    const [lo, hi, c] = parts as [string, string, string];
    const count = Number(c);
    check(Number.isInteger(count) && count >= 1, `--lrs count must be a positive integer, got "${c}"`);
    const min = num(lo);
    const max = num(hi);
    check(max >= min, `--lrs range max must be ≥ min, got "${raw}"`);
    return logSpaced(min, max, count);
  }
  const items = raw.split(",").filter((s) => s.trim() !== "");
  check(items.length > 0, "--lrs needs at least one learning rate");
  return items.map(num);
}

/** argv → config (pure; tested in test/cli-reproduce.test.ts). */
export function reproduceConfig(argv: readonly string[]): ReproduceConfig {
  const { flags, positional } = parseFlags(REPRODUCE_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`reproduce takes no positional arguments, got "${positional[0]}"`);
  const f = flags as Partial<Record<keyof typeof REPRODUCE_FLAGS, string | number | boolean | string[] | number[]>>;
  const partial: Partial<ToySpec> & { -readonly [K in keyof ToySpec]?: ToySpec[K] } =
    f.quick === true ? { ...TOY_QUICK } : {};
  if (f.widths !== undefined) partial.widths = f.widths as number[];
  if (f.lrs !== undefined) partial.lrs = parseLrs(f.lrs as string);
  if (f.seeds !== undefined) {
    const n = f.seeds as number;
    check(n >= 1, `--seeds must be at least 1, got ${n}`);
    partial.seeds = Array.from({ length: n }, (_, i) => i);
  }
  if (f.steps !== undefined) partial.steps = f.steps as number;
  if (f.rank !== undefined) {
    partial.r = f.rank as number;
    check(partial.r >= 1, `--rank must be a positive integer, got ${partial.r}`);
    partial.alpha = partial.r;
  }
  if (f.optimizer !== undefined) partial.optimizer = f.optimizer as ToySpec["optimizer"];
  if (f.inits !== undefined) partial.inits = f.inits as InitScheme[];
  if (f["log-every"] !== undefined) partial.logEvery = f["log-every"] as number;
  if (f["one-at-a-time"] === true) partial.batchAdapters = false;
  const workers = f.workers as number | undefined;
  if (workers !== undefined) check(workers >= 0, `--workers must be 0 or more, got ${workers}`);
  return {
    spec: toySpec(partial),
    out: path.resolve((f.out as string | undefined) ?? "lorascope-out"),
    json: f.json === true,
    workers,
    saveState: f["save-state"] === true,
  };
}

export const reproduce: Command = {
  name: "reproduce",
  summary: "toy sweep: optimal learning rate vs width for Init[A] and Init[B], with analysis",
  help: [
    "Usage: lorascope reproduce [options]",
    "",
    "Trains LoRA adapters on a toy teacher–student task over a grid of widths × learning rates ×",
    "seeds × inits, writes one row per observation to OUT/runs/*.jsonl (resumable: rerunning skips",
    "finished runs), then fits the optimal learning rate's width exponent per init. With --save-state,",
    "every run also gets a replay folder OUT/state/<init>_n<width>_lr<lr>_s<seed>/ (docs/replay.md).",
    "",
    flagHelp(REPRODUCE_FLAGS),
  ].join("\n"),
  async run(argv) {
    const cfg = reproduceConfig(argv);
    const { spec } = cfg;
    const total = spec.widths.length * spec.seeds.length * spec.inits.length * spec.lrs.length;
    const bar = new ProgressBar(total, 1, "runs", { silent: cfg.json });
    let saved = 0;
    exitOnInterrupt("reproduce", cfg.out, () => ({ saved, total }));
    const result = await runToySweep(spec, cfg.out, {
      ...(cfg.workers === undefined ? {} : { workers: cfg.workers }),
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
      process.stdout.write(
        `report: ${files.html}\nsummary: ${files.markdown}\nfigures: ${path.dirname(files.svgs[0] ?? files.html)}\n`,
      );
    }
    return 0;
  },
};
