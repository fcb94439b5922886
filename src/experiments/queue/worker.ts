// `lorascope worker`: take jobs from the queue and run them, one at a time per process, on a
// single-threaded engine (as the local pool's children do). A job made by another lorascope version,
// or whose settings hash this worker's code does not reproduce, is refused with one sentence and put
// back, delayed a little, for a matching worker. A run that throws is a result like any other (the
// enqueuing command reports it as a local sweep does), never retried by the queue. A worker killed
// mid-job loses nothing: its lock runs out, BullMQ's stalled-job check puts the job back, and another
// worker runs it; should the first one still finish, its result is refused, since it lost the lock.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { UserError } from "../../core/errors.ts";
import { siblingModule, tsxExecArgv, workerError } from "../worker-pool.ts";
import { checkReachable, loadBullmq, QUEUE_NAME, redisOptions } from "./connection.ts";
import type { QueuedJob, QueuedResult } from "./jobs.ts";
import { isQueueStudy, queueStudy } from "./studies.ts";
import type { QueueTarget } from "./url.ts";

export interface QueueWorkerOptions {
  /** Jobs run at once, each in its own process. */
  readonly concurrency: number;
  /**
   * How long a job's lock lasts without renewal (renewed at half this while the job runs): a killed
   * worker's job is taken over after about this long; a run must never block its process this long.
   */
  readonly lockSeconds: number;
  /** This lorascope's version. */
  readonly version: string;
}

/** How long a refused job waits before any worker may take it again. */
const REFUSE_DELAY_MS = 2000;
/** Jobs that stall (their worker lost) more often than this fail, rather than killing worker after worker. */
const MAX_STALLS = 3;

const say = (line: string) => process.stderr.write(`lorascope worker: ${line}\n`);

/** Why this worker will not run `data`, or null when it will. */
async function refusal(data: QueuedJob, version: string): Promise<string | null> {
  if (data.version !== version) {
    return `it was made by lorascope ${data.version} and this worker is ${version}; start workers of the same version`;
  }
  if (!isQueueStudy(data.study)) return `its study "${String(data.study)}" is not known to this worker`;
  let hash: string;
  try {
    hash = await queueStudy(data.study).hash(data.payload);
  } catch (err) {
    return `its settings are not valid here (${err instanceof Error ? err.message : String(err)})`;
  }
  return hash === data.settingsHash ? null : `its settings hash ${data.settingsHash} is ${hash} by this worker's code; start workers of the same version`;
}

/** Serve jobs in this process until a signal (or the connection is lost for good). */
async function serveInProcess(target: QueueTarget, opts: QueueWorkerOptions): Promise<number> {
  const bull = await loadBullmq();
  await checkReachable(bull, target);
  const { initEngine } = await import("../../engine/index.ts");
  await initEngine({ threads: 1 });
  const refused = new Set<string>();
  const lockMs = opts.lockSeconds * 1000;
  const worker = new bull.Worker<QueuedJob, QueuedResult>(
    QUEUE_NAME,
    async (job, token): Promise<QueuedResult> => {
      const id = job.id ?? "?";
      const why = await refusal(job.data, opts.version);
      if (why !== null) {
        await job.moveToDelayed(Date.now() + REFUSE_DELAY_MS, token);
        if (!refused.has(id)) say(`refused job ${id}: ${why}`);
        refused.add(id);
        throw new bull.DelayedError();
      }
      const t0 = performance.now();
      say(`running ${id}`);
      try {
        const rowsText = await queueStudy(job.data.study).run(job.data.payload);
        say(`ran ${id} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        return { ok: true, rowsText };
      } catch (err) {
        say(`${id} failed: ${err instanceof Error ? err.message : String(err)}`);
        return { ok: false, error: workerError(err) };
      }
    },
    {
      connection: redisOptions(target, true),
      concurrency: 1,
      lockDuration: lockMs,
      stalledInterval: Math.min(30_000, lockMs / 2),
      maxStalledCount: MAX_STALLS,
    },
  );
  worker.on("error", () => {}); // reconnects are retried; giving up ends the worker below
  say(`waiting for jobs on ${target.shown} (lorascope ${opts.version}, pid ${process.pid})`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      void worker.close(true).finally(() => resolve(code));
    };
    void worker.client.then((c) =>
      c.once("end", () => {
        if (stopping) return;
        say(`the connection to ${target.shown} was lost`);
        stop(1);
      }),
    );
    process.once("SIGINT", () => stop(130));
    process.once("SIGTERM", () => stop(143));
    process.once("disconnect", () => stop(0)); // a child of a --concurrency N worker whose parent is gone
  });
}

/**
 * Run a worker: in this process for concurrency 1, else that many child processes (one engine
 * each). Resolves with the exit code: 0 after a signal, 1 when a child failed.
 */
export async function runQueueWorker(target: QueueTarget, opts: QueueWorkerOptions): Promise<number> {
  if (opts.concurrency === 1) return serveInProcess(target, opts);
  const bull = await loadBullmq();
  await checkReachable(bull, target); // one sentence here rather than one per child
  const url = siblingModule("worker-child", import.meta.url);
  const execArgv = url.pathname.endsWith(".ts") ? tsxExecArgv() : [];
  const arg = JSON.stringify({ target, opts: { ...opts, concurrency: 1 } });
  const children = Array.from({ length: opts.concurrency }, () =>
    fork(fileURLToPath(url), [arg], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill();
  };
  process.once("SIGINT", stopAll);
  process.once("SIGTERM", stopAll);
  const codes = await Promise.all(children.map((c) => new Promise<number>((resolve) => c.on("exit", (code) => {
    if (code !== 0) stopAll();
    resolve(code ?? 1);
  }))));
  return codes.every((c) => c === 0 || c === 130 || c === 143) ? 0 : 1;
}

/** A child of `runQueueWorker`: its options as one JSON argument. */
export async function serveChild(arg: string): Promise<void> {
  const { target, opts } = JSON.parse(arg) as { target: QueueTarget; opts: QueueWorkerOptions };
  try {
    process.exitCode = await serveInProcess(target, opts);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    say(err.message);
    process.exitCode = 1;
  }
  process.exit();
}
