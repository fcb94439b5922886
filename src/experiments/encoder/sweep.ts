// The sentence-encoder (USE-lite) finetuning sweep: learning rate × adapter init × seed, one
// finetune per cell, run on a pool of single-threaded child processes (../worker-pool.ts). Each
// finished run is one JSON row, OUT/runs/<id>.json, written atomically by the sweep store
// (../store.ts), so a killed sweep loses only the runs in flight and a rerun skips every run whose
// row exists. Jobs go out seed-major: a worker that gets several runs of one seed reuses that
// seed's embedded data and linear probe (finetune.ts, prepareTask).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EncoderRunRow } from "./rows.ts";
import { UserError } from "../../core/errors.ts";
import { removeStaleTemps, writeFileAtomic } from "../../io/atomic.ts";
import { canonicalSettings, finishedRuns, readRowFiles, runsDir, setAside, writeRowFile } from "../store.ts";
import type { InitScheme } from "../../lora/config.ts";
import { ENCODER_DEFAULTS, dataName, encoderSpec, type HeadInit, type EncoderFinetuneSpec, type EncoderTask } from "./spec.ts";
import { meanOverModules } from "./dynamics.ts";
import { runPool, siblingModule } from "../worker-pool.ts";

/** The LoRA, optimizer and loop options a sweep passes to every run (absent: the defaults). */
export type SweepRunOptions = Partial<
  Pick<
    EncoderFinetuneSpec,
    | "targetModules"
    | "dropout"
    | "useRslora"
    | "loraplusLrRatio"
    | "schedule"
    | "warmupSteps"
    | "weightDecay"
    | "gradClip"
    | "evalEvery"
    | "earlyStopPatience"
  >
>;

export interface EncoderSweepSpec extends SweepRunOptions {
  readonly task?: EncoderTask;
  /** The user's data folder instead of a built-in task. */
  readonly data?: string;
  readonly lrs: readonly number[];
  readonly inits: readonly InitScheme[];
  /** Seeds 0 … seeds − 1. */
  readonly seeds: number;
  readonly epochs: number;
  readonly headLr: number;
  /** Absent in sweeps made before the option existed: "random". */
  readonly headInit?: HeadInit;
  readonly batch: number;
  readonly limit?: number;
  readonly evalLimit?: number;
}

/** One cell of the grid, as sent to a worker. */
export interface EncoderSweepJob {
  readonly spec: EncoderFinetuneSpec;
  /** Where the row goes. */
  readonly file: string;
}

export function runId(init: string, lr: number, seed: number): string {
  return `${init}-lr${lr}-seed${seed}`;
}

const RUN_OPTION_KEYS = [
  "targetModules", "dropout", "useRslora", "loraplusLrRatio", "schedule",
  "warmupSteps", "weightDecay", "gradClip", "evalEvery", "earlyStopPatience",
] as const satisfies ReadonlyArray<keyof SweepRunOptions>;

/**
 * The options of `s` that change a run: those given and different from the defaults. Only these
 * enter the settings hash, so a sweep made before the options existed (or one that spells out a
 * default) keeps its hash and its rows.
 */
export function runOptions(s: SweepRunOptions): SweepRunOptions {
  const out: Record<string, unknown> = {};
  const defaults = ENCODER_DEFAULTS as Readonly<Record<string, unknown>>;
  for (const k of RUN_OPTION_KEYS) {
    const v = s[k];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(defaults[k])) out[k] = v;
  }
  return out;
}

/** The grid's finetune specs, seed-major. */
export function sweepRuns(s: EncoderSweepSpec): EncoderFinetuneSpec[] {
  const out: EncoderFinetuneSpec[] = [];
  for (let seed = 0; seed < s.seeds; seed++) {
    for (const init of s.inits) {
      for (const lr of s.lrs) {
        out.push(
          encoderSpec({
            ...runOptions(s),
            ...(s.task === undefined ? {} : { task: s.task }),
            ...(s.data === undefined ? {} : { data: s.data }),
            init,
            lr,
            seed,
            epochs: s.epochs,
            headLr: s.headLr,
            headInit: s.headInit ?? ENCODER_DEFAULTS.headInit,
            batch: s.batch,
            ...(s.limit === undefined ? {} : { limit: s.limit }),
            ...(s.evalLimit === undefined ? {} : { evalLimit: s.evalLimit }),
          }),
        );
      }
    }
  }
  return out;
}

/** A run's row file: OUT/runs/<run id>.json. */
const rowFile = (outDir: string, r: { init: string; lr: number; seed: number }): string =>
  path.join(runsDir(outDir), `${runId(r.init, r.lr, r.seed)}.json`);

/**
 * The rows of this grid found in OUT/runs (temp files and other grids' rows are ignored). Nulls stay
 * null: rows have been written with plain JSON, which the encoder's readers expect.
 */
export function readRows(outDir: string, s: EncoderSweepSpec): EncoderRunRow[] {
  const wanted = new Set(sweepRuns(s).map((r) => path.basename(rowFile(outDir, r))));
  return readRowFiles<EncoderRunRow>(outDir, (f) => wanted.has(f), "all");
}

export interface EncoderSweepResult {
  readonly rows: EncoderRunRow[];
  readonly runsTotal: number;
  readonly runsSkipped: number;
  readonly seconds: number;
}

/** Run (or finish) the sweep into `outDir`. `workers` 0 runs in this process (tests, debugging). */
export async function runEncoderSweep(
  s: EncoderSweepSpec,
  outDir: string,
  opts: { workers?: number; onRun?: (done: number, total: number) => void } = {},
): Promise<EncoderSweepResult> {
  const t0 = performance.now();
  const all = sweepRuns(s); // validates every run's spec: nothing is written for a rejected sweep
  checkSameSettings(outDir, s);
  mkdirSync(runsDir(outDir), { recursive: true });
  removeStaleTemps(runsDir(outDir)); // from runs in flight when an earlier sweep was killed
  await writeFileAtomic(path.join(outDir, SWEEP_FILE), JSON.stringify(s, null, 2) + "\n");
  const finished = finishedRuns(readRows(outDir, s), (r) => runId(r.init, r.lr, r.seed));
  const jobs: EncoderSweepJob[] = all
    .filter((spec) => !finished.has(runId(spec.init, spec.lr, spec.seed)))
    .map((spec) => ({ spec, file: rowFile(outDir, spec) }));
  const runsSkipped = all.length - jobs.length;
  let done = runsSkipped;
  if (runsSkipped > 0) opts.onRun?.(done, all.length);
  const onDone = () => opts.onRun?.(++done, all.length);
  const workers = Math.min(opts.workers ?? os.availableParallelism(), jobs.length);
  if (workers === 0) {
    for (const job of jobs) {
      await runSweepJob(job);
      onDone();
    }
  } else {
    await runPool(siblingModule("worker", import.meta.url), jobs, workers, { onDone, logDir: outDir });
  }
  return { rows: readRows(outDir, s), runsTotal: all.length, runsSkipped, seconds: (performance.now() - t0) / 1000 };
}

const SWEEP_FILE = "sweep.json";

/** Everything but the grid's axes: rows made under other settings must not be reused. */
function settings(s: EncoderSweepSpec): string {
  const { lrs: _lrs, inits: _inits, seeds: _seeds, ...given } = s;
  for (const k of RUN_OPTION_KEYS) delete (given as Record<string, unknown>)[k];
  return canonicalSettings({ ...given, ...runOptions(s), headInit: s.headInit ?? ENCODER_DEFAULTS.headInit });
}

/**
 * A rerun may extend the grid (more lrs, inits or seeds) but not change how each run trains: the
 * rows already in OUT would silently mix two settings.
 */
function checkSameSettings(outDir: string, s: EncoderSweepSpec): void {
  const file = path.join(outDir, SWEEP_FILE);
  if (!existsSync(file)) return;
  let before: EncoderSweepSpec;
  try {
    before = JSON.parse(readFileSync(file, "utf8")) as EncoderSweepSpec;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Cut short: the settings it held are unknown. Set aside, so this sweep's settings are recorded.
    setAside(file, err.message);
    return;
  }
  if (settings(before) !== settings(s)) {
    throw new UserError(
      `${outDir} holds a sweep run with other settings (${settings(before)}, now ${settings(s)}); use another --out or the same settings`,
    );
  }
}

/** One cell: finetune, then write its row atomically. */
export async function runSweepJob(job: EncoderSweepJob): Promise<void> {
  const { runEncoderFinetune } = await import("./finetune.ts");
  const r = await runEncoderFinetune(job.spec);
  const row: EncoderRunRow & Record<string, unknown> = {
    init: r.spec.init,
    lr: r.spec.lr,
    seed: r.spec.seed,
    diverged: r.diverged,
    collapsed: r.collapsed,
    validation: r.validation,
    test: r.test,
    probe: r.probe,
    examplesPerSecond: r.examplesPerSecond,
    evalExamplesPerSecond: r.evalExamplesPerSecond,
    peakRssMiB: r.peakRssMiB,
    truncated: r.truncated,
    task: dataName(r.spec),
    spec: r.spec,
    splits: r.splits,
    finalLoss: r.losses.at(-1) ?? null,
    dynamics: meanOverModules(r.dynamics),
  };
  await writeRowFile(job.file, [row]);
}
