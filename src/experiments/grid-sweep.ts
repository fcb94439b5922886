// The learning rate × init × seed grid every finetuning study sweeps, on one engine: cells go out
// seed-major to a pool of single-threaded child processes (worker-pool.ts), each finished cell is one
// JSON row written atomically by the study's run function (OUT/runs/<init>-lr<lr>-seed<seed>.json,
// store.ts), so a killed sweep loses only the cells in flight and a rerun skips every cell whose row
// exists. A rerun may widen the grid but not change how a cell trains: OUT/sweep.json holds the
// settings, and rows made under others are refused. A study plugs in its cell spec, its settings and
// the worker module that runs a cell; the grid, resume, the settings check and the pool are here.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { removeStaleTemps, writeFileAtomic } from "../io/atomic.ts";
import { finishedRuns, readRowFiles, runsDir, setAside } from "./store.ts";
import { runPool } from "./worker-pool.ts";
import { runOnQueue } from "./queue/enqueue.ts";
import { lorascopeVersion, type QueueStudyName } from "./queue/jobs.ts";
import type { QueueTarget } from "./queue/url.ts";

/** What every cell of a grid has: its axes' values. */
export interface GridCell {
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
}

/** One cell as sent to a worker: the study's spec and where its row goes. */
export interface GridJob<S extends GridCell> {
  readonly spec: S;
  readonly file: string;
}

export interface GridStudy<S extends GridCell, Sweep> {
  /** The cells, seed-major (a worker given several runs of one seed may reuse that seed's data). */
  cells(sweep: Sweep): S[];
  /** Everything but the axes, as canonical text: a rerun must match it. */
  settings(sweep: Sweep): string;
  /** The child-process module that serves this study's jobs (`servePool(runJob)`). */
  readonly worker: URL;
  /** One cell in this process: run it and write its row to `job.file` (what the worker calls). */
  runJob(job: GridJob<S>): Promise<void>;
  /**
   * How the study's cells go through a job queue (queue/studies.ts runs them there): the study's
   * name and a cell's settings hash, which every worker recomputes. Absent: no queue mode.
   */
  readonly queue?: { readonly study: QueueStudyName; cellHash(spec: S): string };
  /**
   * Work the cells share, done once in this process before the first cell runs (and only when a cell
   * is left to run), e.g. tokenizing the texts every cell reads.
   */
  prepare?(sweep: Sweep, outDir: string, progress: (line: string) => void): Promise<void>;
}

export interface GridSweepResult<R> {
  readonly rows: R[];
  readonly runsTotal: number;
  readonly runsSkipped: number;
  readonly seconds: number;
}

export const SWEEP_FILE = "sweep.json";

export function runId(init: string, lr: number, seed: number): string {
  return `${init}-lr${lr}-seed${seed}`;
}

/** The sweep folder OUT of a row file OUT/runs/<run id>.json (a worker finds the sweep's shared files from it). */
export function sweepDirOf(rowFilePath: string): string {
  return path.dirname(path.dirname(rowFilePath));
}

/** A cell's row file: OUT/runs/<run id>.json. */
export function rowFile(outDir: string, c: GridCell): string {
  return path.join(runsDir(outDir), `${runId(c.init, c.lr, c.seed)}.json`);
}

/** The rows of this grid found in OUT/runs (temp files and other grids' rows are ignored); nulls stay null. */
export function readGridRows<R, S extends GridCell, Sweep>(
  outDir: string,
  study: GridStudy<S, Sweep>,
  sweep: Sweep,
): R[] {
  const wanted = new Set(study.cells(sweep).map((c) => path.basename(rowFile(outDir, c))));
  return readRowFiles<R>(outDir, (f) => wanted.has(f), "all");
}

function checkSameSettings<Sweep>(outDir: string, settings: (s: Sweep) => string, sweep: Sweep): void {
  const file = path.join(outDir, SWEEP_FILE);
  if (!existsSync(file)) return;
  let before: Sweep;
  try {
    before = JSON.parse(readFileSync(file, "utf8")) as Sweep;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Cut short: the settings it held are unknown. Set aside, so this sweep's settings are recorded.
    setAside(file, err.message);
    return;
  }
  if (settings(before) !== settings(sweep)) {
    throw new UserError(
      `${outDir} holds a sweep run with other settings (${settings(before)}, now ${settings(sweep)}); use another --out or the same settings`,
    );
  }
}

export interface GridSweepOptions {
  /** Local worker processes; 0 runs in this process (tests, debugging). Default: all cores. */
  readonly workers?: number;
  readonly onRun?: (done: number, total: number) => void;
  /** Run the cells through this job queue instead of local processes. */
  readonly queue?: QueueTarget;
  /** Lines about the shared preparation (GridStudy.prepare), for stderr. */
  readonly progress?: (line: string) => void;
}

/** Send `jobs` to the queue; each cell's row is written to its file as it comes back. */
function runGridOnQueue<S extends GridCell, Sweep>(
  study: GridStudy<S, Sweep>,
  target: QueueTarget,
  jobs: ReadonlyArray<GridJob<S>>,
  outDir: string,
  onDone: () => void,
): Promise<void> {
  const q = study.queue;
  if (q === undefined) throw new UserError("this sweep cannot run on a job queue yet; leave out --queue");
  const version = lorascopeVersion();
  const work = jobs.map(({ spec, file }) => {
    const settingsHash = q.cellHash(spec);
    const id = `${q.study}-${runId(spec.init, spec.lr, spec.seed)}-${settingsHash}`;
    return { id, job: { study: q.study, settingsHash, version, payload: spec }, file, runs: 1 };
  });
  return runOnQueue(target, work, { onDone, logDir: outDir });
}

/** Run (or finish) the sweep into `outDir`. `workers` 0 runs in this process (tests, debugging). */
export async function runGridSweep<R extends GridCell, S extends GridCell, Sweep>(
  study: GridStudy<S, Sweep>,
  sweep: Sweep,
  outDir: string,
  opts: GridSweepOptions = {},
): Promise<GridSweepResult<R>> {
  const t0 = performance.now();
  const all = study.cells(sweep); // validates every cell's spec: nothing is written for a rejected sweep
  checkSameSettings(outDir, (s: Sweep) => study.settings(s), sweep);
  mkdirSync(runsDir(outDir), { recursive: true });
  removeStaleTemps(runsDir(outDir)); // from runs in flight when an earlier sweep was killed
  await writeFileAtomic(path.join(outDir, SWEEP_FILE), JSON.stringify(sweep, null, 2) + "\n");
  const finished = finishedRuns(readGridRows<R, S, Sweep>(outDir, study, sweep), (r) => runId(r.init, r.lr, r.seed));
  const jobs: Array<GridJob<S>> = all
    .filter((spec) => !finished.has(runId(spec.init, spec.lr, spec.seed)))
    .map((spec) => ({ spec, file: rowFile(outDir, spec) }));
  const runsSkipped = all.length - jobs.length;
  let done = runsSkipped;
  if (runsSkipped > 0) opts.onRun?.(done, all.length);
  const onDone = () => opts.onRun?.(++done, all.length);
  if (jobs.length > 0) await study.prepare?.(sweep, outDir, opts.progress ?? (() => {}));
  const workers = Math.min(opts.workers ?? os.availableParallelism(), jobs.length);
  if (opts.queue !== undefined) {
    if (jobs.length > 0) await runGridOnQueue(study, opts.queue, jobs, outDir, onDone);
  } else if (workers === 0) {
    for (const job of jobs) {
      await study.runJob(job);
      onDone();
    }
  } else {
    await runPool(study.worker, jobs, workers, { onDone, logDir: outDir });
  }
  const rows = readGridRows<R, S, Sweep>(outDir, study, sweep);
  return { rows, runsTotal: all.length, runsSkipped, seconds: (performance.now() - t0) / 1000 };
}
