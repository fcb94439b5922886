// The enqueuing side of a sweep on a job queue: every unfinished job goes to the queue under its id
// (BullMQ adds a job id once, so enqueueing twice never duplicates), and each result is written into
// the local output folder as it arrives, exactly as the local runner writes it. The sweep's own
// resume does the rest: an interrupted command leaves its jobs queued, and a rerun asks again for
// the jobs whose rows are missing, collecting those that finished meanwhile.
//
// Results are noticed through QueueEvents and, every few seconds, by asking for each pending job's
// state: an event missed while connecting, a job lost with a Redis restart (re-added) or one that
// failed all show up there.
import { UserError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { fromWorkerError } from "../worker-pool.ts";
import { checkReachable, loadBullmq, QUEUE_NAME, redisOptions } from "./connection.ts";
import type { QueuedJob, QueuedResult, QueueWork } from "./jobs.ts";
import type { QueueTarget } from "./url.ts";

export interface EnqueueCallbacks {
  /** A job's rows are written to its file. */
  readonly onDone?: (w: QueueWork) => void;
  /** Where an unexpected worker error's stack is logged (the sweep's output folder). */
  readonly logDir?: string;
  /** How often every pending job's state is asked for (ms); default 5000. */
  readonly pollMs?: number;
}

/** Finished or failed jobs are kept this long in Redis if no enqueuing command collects them. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** Run `work` through the queue at `target`; resolves when every job's rows are written. */
export async function runOnQueue(
  target: QueueTarget,
  work: readonly QueueWork[],
  cb: EnqueueCallbacks = {},
): Promise<void> {
  const bull = await loadBullmq();
  await checkReachable(bull, target);
  if (work.length === 0) return;
  const queue = new bull.Queue<QueuedJob, QueuedResult>(QUEUE_NAME, { connection: redisOptions(target, false) });
  const events = new bull.QueueEvents(QUEUE_NAME, { connection: redisOptions(target, true) });
  const pending = new Map(work.map((w) => [w.id, w]));
  const busy = new Set<string>();
  /** Jobs an event asked about while they were being looked at: looked at again right after. */
  const recheck = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  try {
    await events.waitUntilReady();
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: unknown) => {
        failed = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      // Connection trouble after the start (Redis stopped, the network gone) ends the sweep once the
      // clients have given up reconnecting; the finished rows are on disk and a rerun resumes.
      const onClose = () => fail(new UserError(`the connection to the queue at ${target.shown} was lost; the finished runs are saved and a rerun resumes`));
      queue.on("error", () => {});
      events.on("error", () => {});
      void queue.client.then((c) => c.once("end", onClose));
      const add = (w: QueueWork) =>
        queue.add(w.id, w.job, {
          jobId: w.id,
          attempts: 1,
          removeOnComplete: { age: KEEP_SECONDS },
          removeOnFail: { age: KEEP_SECONDS },
        });
      /** Look at one job; `starting`: a failed job left by an earlier command is retried, not reported. */
      const check = async (id: string, starting: boolean): Promise<void> => {
        const w = pending.get(id);
        if (w === undefined || failed) return;
        if (busy.has(id)) {
          recheck.add(id);
          return;
        }
        busy.add(id);
        try {
          const state = await queue.getJobState(id);
          if (state === "unknown") await add(w);
          else if (state === "completed" || state === "failed") {
            const job = await queue.getJob(id);
            // Removed meanwhile (by another command collecting it): asked again next round.
            if (job === undefined) return;
            const result = state === "completed" ? job.returnvalue : undefined;
            if (result?.ok === true) {
              await writeFileAtomic(w.file, result.rowsText);
              pending.delete(id);
              await job.remove().catch(() => {}); // already collected elsewhere: the rows are the same
              cb.onDone?.(w);
              if (pending.size === 0) resolve();
              return;
            }
            await job.remove();
            if (starting) await add(w);
            else if (result?.ok === false) fail(fromWorkerError(result.error, cb.logDir));
            else fail(new UserError(`job ${id} failed on the queue (${job.failedReason}); the finished runs are saved and a rerun retries it`));
          }
        } catch (err) {
          fail(err);
        } finally {
          busy.delete(id);
          if (recheck.delete(id)) void check(id, false);
        }
      };
      events.on("completed", ({ jobId }) => void check(jobId, false));
      events.on("failed", ({ jobId }) => void check(jobId, false));
      const round = async (starting: boolean) => {
        // In slices, so that thousands of jobs do not open thousands of requests at once.
        const ids = [...pending.keys()];
        for (let i = 0; i < ids.length && !failed; i += 200) {
          await Promise.all(ids.slice(i, i + 200).map((id) => check(id, starting)));
        }
      };
      const again = () => {
        if (failed || pending.size === 0) return;
        timer = setTimeout(() => void round(false).then(again), cb.pollMs ?? 5000);
      };
      void round(true).then(again);
    });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await Promise.all([queue.close(), events.close()]).catch(() => {});
  }
}
