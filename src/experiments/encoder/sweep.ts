// The sentence-encoder (USE-lite) finetuning sweep: learning rate × adapter init × seed, one
// finetune per cell, on the grid engine every study shares (../grid-sweep.ts: pool, resume, settings
// check, one atomically written row per run). Jobs go out seed-major: a worker that gets several runs
// of one seed reuses that seed's embedded data and linear probe (finetune.ts, prepareTask).
import type { EncoderRunRow } from "./rows.ts";
import { canonicalSettings, settingsHash, writeRowFile } from "../store.ts";
import { readGridRows, runGridSweep, type GridJob, type GridSweepOptions, type GridStudy, type GridSweepResult } from "../grid-sweep.ts";
import type { InitScheme } from "../../lora/config.ts";
import { ENCODER_DEFAULTS, dataName, encoderSpec, type HeadInit, type EncoderFinetuneSpec, type EncoderTask } from "./spec.ts";
import { meanOverModules } from "./dynamics.ts";
import { siblingModule } from "../worker-pool.ts";

export { runId } from "../grid-sweep.ts";

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
export type EncoderSweepJob = GridJob<EncoderFinetuneSpec>;

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

/** The encoder study on the grid engine. */
const STUDY: GridStudy<EncoderFinetuneSpec, EncoderSweepSpec> = {
  cells: sweepRuns,
  settings,
  worker: siblingModule("worker", import.meta.url),
  runJob: (job) => runSweepJob(job),
  queue: { study: "encoder", cellHash },
};

/** The settings hash of one finetune of the grid (every field of its spec, the cell's axes included). */
export function cellHash(spec: EncoderFinetuneSpec): string {
  return settingsHash(spec as unknown as Readonly<Record<string, unknown>>);
}

/** The rows of this grid found in OUT/runs (temp files and other grids' rows are ignored). */
export function readRows(outDir: string, s: EncoderSweepSpec): EncoderRunRow[] {
  return readGridRows<EncoderRunRow, EncoderFinetuneSpec, EncoderSweepSpec>(outDir, STUDY, s);
}

export type EncoderSweepResult = GridSweepResult<EncoderRunRow>;

/** Run (or finish) the sweep into `outDir`. `workers` 0 runs in this process (tests, debugging). */
export function runEncoderSweep(
  s: EncoderSweepSpec,
  outDir: string,
  opts: GridSweepOptions = {},
): Promise<EncoderSweepResult> {
  return runGridSweep<EncoderRunRow, EncoderFinetuneSpec, EncoderSweepSpec>(STUDY, s, outDir, opts);
}

/**
 * Everything but the grid's axes: rows made under other settings must not be reused. A rerun may
 * extend the grid (more lrs, inits or seeds) but not change how each run trains.
 */
function settings(s: EncoderSweepSpec): string {
  const { lrs: _lrs, inits: _inits, seeds: _seeds, ...given } = s;
  for (const k of RUN_OPTION_KEYS) delete (given as Record<string, unknown>)[k];
  return canonicalSettings({ ...given, ...runOptions(s), headInit: s.headInit ?? ENCODER_DEFAULTS.headInit });
}

/** One cell: finetune, then write its row atomically. */
export async function runSweepJob(job: EncoderSweepJob): Promise<void> {
  await writeRowFile(job.file, [await sweepRow(job.spec)]);
}

/** One cell's row (what a local worker writes and a queue worker sends back). */
export async function sweepRow(spec: EncoderFinetuneSpec): Promise<EncoderRunRow & Record<string, unknown>> {
  const { runEncoderFinetune } = await import("./finetune.ts");
  const r = await runEncoderFinetune(spec);
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
  return row;
}
