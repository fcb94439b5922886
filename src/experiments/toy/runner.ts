// The resumable, parallel toy sweep: finished runs (a final row in runs/<protocol>-*.jsonl) are
// skipped, the rest are grouped into (width, seed) jobs and spread over child processes, one
// single-threaded engine each. Returns every row of the grid's runs. With `saveState`, each job also
// writes its replay files (state.ts), and a run counts as finished only once they exist too.
import fs from "node:fs";
import { UserError } from "../../core/errors.ts";
import os from "node:os";
import path from "node:path";
import { runId, type Row } from "./rows.ts";
import { gridRuns, jobCost, jobId, pendingJobs } from "./grid.ts";
import { runToyJob, type ToyJob } from "./job.ts";
import { protocolHash, type ToySpec } from "./spec.ts";
import { hasToyState, writeToyJobState } from "./state.ts";
import { removeStaleTemps, writeFileAtomicSync } from "../../io/atomic.ts";
import { runsDir } from "../store.ts";
import { dropRuns, finishedToyRuns, readStoredRows, writeJobFile } from "./store.ts";
import type { ToyWorkerJob } from "./worker.ts";
import { runPool, siblingModule } from "../worker-pool.ts";
import { runOnQueue } from "../queue/enqueue.ts";
import { lorascopeVersion, type QueueWork } from "../queue/jobs.ts";
import type { ToyQueuePayload } from "../queue/studies.ts";
import type { QueueTarget } from "../queue/url.ts";

export interface SweepProgress {
  readonly runsDone: number;
  readonly runsTotal: number;
  /** Fraction of the remaining work done in this invocation, 0…1. */
  readonly workFraction: number;
}

export interface SweepOptions {
  /** Child processes; 0 runs the jobs in this process (tests, debugging). Default: all cores. */
  readonly workers?: number;
  readonly onProgress?: (p: SweepProgress) => void;
  /** Also write per-run replay files under OUT/state (docs/replay.md). Default false. */
  readonly saveState?: boolean;
  /** Run the jobs through this job queue instead of local processes (not with saveState). */
  readonly queue?: QueueTarget;
}

export interface SweepResult {
  readonly rows: Row[];
  readonly runsTotal: number;
  /** Runs found finished on disk when the sweep started. */
  readonly runsSkipped: number;
  readonly seconds: number;
}

/** Run `jobs` on `count` child processes; resolves when all are written, rejects on a worker error. */
function runInChildren(
  outDir: string,
  spec: ToySpec,
  jobs: ToyJob[],
  fileOf: (j: ToyJob) => string,
  stateOut: string | null,
  count: number,
  onJob: (job: ToyJob, fraction: number, done: boolean) => void,
): Promise<void> {
  const work: ToyWorkerJob[] = jobs.map((job) => ({ spec, job, file: fileOf(job), stateOut }));
  return runPool(siblingModule("worker", import.meta.url), work, count, {
    onProgress: (w, fraction) => onJob(w.job, fraction, false),
    onDone: (w) => onJob(w.job, 1, true),
    logDir: outDir,
  });
}

/** Send `jobs` to the queue; each job's rows are written to `fileOf(job)` as they come back. */
function runOnToyQueue(
  target: QueueTarget,
  outDir: string,
  spec: ToySpec,
  jobs: ToyJob[],
  fileOf: (j: ToyJob) => string,
  onJob: (job: ToyJob, fraction: number, done: boolean) => void,
): Promise<void> {
  const version = lorascopeVersion();
  const settingsHash = protocolHash(spec);
  const byId = new Map<string, ToyJob>();
  const work: QueueWork[] = jobs.map((job) => {
    // The job file's name holds the protocol hash and the job's runs: the run's id across machines.
    const id = `toy-${jobId(spec, job)}`;
    byId.set(id, job);
    const payload: ToyQueuePayload = { spec, job };
    return { id, job: { study: "toy", settingsHash, version, payload }, file: fileOf(job), runs: job.runs.length };
  });
  return runOnQueue(target, work, { onDone: (w) => onJob(byId.get(w.id) as ToyJob, 1, true), logDir: outDir });
}

/** Run (or finish) the sweep of `spec` into `outDir`. */
export async function runToySweep(spec: ToySpec, outDir: string, opts: SweepOptions = {}): Promise<SweepResult> {
  const t0 = performance.now();
  fs.mkdirSync(runsDir(outDir), { recursive: true });
  removeStaleTemps(runsDir(outDir)); // left by workers killed mid-write
  writeFileAtomicSync(
    path.join(outDir, "spec.json"),
    JSON.stringify({ ...spec, protocolHash: protocolHash(spec) }, null, 2) + "\n",
  );
  const protocol = protocolHash(spec);
  const grid = gridRuns(spec);
  const stateOut = opts.saveState === true ? outDir : null;
  const done = finishedToyRuns(readStoredRows(outDir, protocol));
  if (stateOut !== null) {
    // A run finished without --save-state is redone now that replay files are asked for; its old
    // rows are dropped first so that it is not counted twice.
    const redo = new Set(grid.filter((k) => done.has(runId(k)) && !hasToyState(outDir, protocol, k)).map(runId));
    if (redo.size > 0) {
      dropRuns(outDir, protocol, redo);
      for (const id of redo) done.delete(id);
    }
  }
  const runsSkipped = grid.filter((k) => done.has(runId(k))).length;
  const jobs = pendingJobs(spec, done);
  const fileOf = (j: ToyJob) => path.join(runsDir(outDir), `${jobId(spec, j)}.jsonl`);

  const totalWork = jobs.reduce((s, j) => s + jobCost(spec, j), 0);
  const partial = new Map<ToyJob, number>();
  let finishedWork = 0;
  let runsDone = runsSkipped;
  const report = () =>
    opts.onProgress?.({
      runsDone,
      runsTotal: grid.length,
      workFraction: totalWork > 0 ? (finishedWork + [...partial.values()].reduce((a, b) => a + b, 0)) / totalWork : 1,
    });
  const onJob = (job: ToyJob, fraction: number, finished: boolean) => {
    if (finished) {
      partial.delete(job);
      finishedWork += jobCost(spec, job);
      runsDone += job.runs.length;
    } else partial.set(job, fraction * jobCost(spec, job));
    report();
  };
  report();

  const workers = opts.workers ?? os.availableParallelism();
  if (opts.queue !== undefined) {
    if (stateOut !== null) throw new UserError("--save-state writes replay files where each run trains, so it cannot be used with --queue");
    if (jobs.length > 0) await runOnToyQueue(opts.queue, outDir, spec, jobs, fileOf, onJob);
  } else if (workers === 0) {
    const { initEngine } = await import("../../engine/index.ts");
    await initEngine();
    for (const job of jobs) {
      const result = await runToyJob(spec, job, (f) => onJob(job, f, false));
      if (stateOut !== null) await writeToyJobState(stateOut, spec, job, result);
      writeJobFile(fileOf(job), result.rows);
      onJob(job, 1, true);
    }
  } else if (jobs.length > 0) {
    await runInChildren(outDir, spec, jobs, fileOf, stateOut, workers, onJob);
  }

  const wanted = new Set(grid.map(runId));
  const rows = readStoredRows(outDir, protocol).filter((r) => wanted.has(runId(r)));
  return { rows, runsTotal: grid.length, runsSkipped, seconds: (performance.now() - t0) / 1000 };
}
