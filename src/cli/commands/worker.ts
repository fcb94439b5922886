// `lorascope worker --queue redis://host:6379 [--concurrency N]`: serve the runs of sweeps started
// with --queue (reproduce, sweep) on this machine until stopped. The queue code and the engine load
// when the worker starts, not with the command table.
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { parseQueueUrl, type QueueTarget } from "../../experiments/queue/url.ts";

export const WORKER_FLAGS = {
  queue: {
    kind: "string",
    value: "url",
    help: "the Redis job queue to serve, redis://[user:password@]host:port[/db] (rediss:// for TLS), as the sweep was given it",
  },
  concurrency: { kind: "int", short: "j", min: 1, max: 256, default: 1, help: "runs at once, each in its own process with a single-threaded engine (at most the cores to spare)" },
  "lock-seconds": {
    kind: "int",
    min: 1,
    max: 86_400,
    default: 300,
    help: "a run's lock, renewed while it runs: a killed worker's run is taken over by another worker after about this long",
  },
} as const satisfies FlagTable;

export interface WorkerConfig {
  readonly queue: QueueTarget;
  readonly concurrency: number;
  readonly lockSeconds: number;
}

/** argv → config; usage errors throw a UserError. */
export async function workerConfig(argv: readonly string[]): Promise<WorkerConfig> {
  const { values: v, positional } = await parseFlags(WORKER_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`worker takes only flags, got "${positional[0] as string}"`);
  if (v.queue === undefined) throw new UserError("worker needs --queue redis://host:port, the queue the sweep was started with");
  return { queue: parseQueueUrl(v.queue), concurrency: v.concurrency, lockSeconds: v["lock-seconds"] };
}

export const worker: Command = {
  name: "worker",
  summary: "run sweep jobs from a Redis job queue (reproduce/sweep --queue), on any machine",
  help: () =>
    commandHelp(
      "Usage: lorascope worker --queue redis://host:port [--concurrency N]",
      [
        "Takes runs from the job queue that `lorascope reproduce --queue` and `lorascope sweep --queue` fill, and sends each result back to the command that queued it, which writes the rows. Start workers on as many machines as you have, with the same lorascope version and data; a job from another version is refused and left for a matching worker. Stop with Ctrl-C: the run in flight goes back to the queue. See README, \"Sweeps on many machines\".",
      ],
      WORKER_FLAGS,
    ),
  async prepare(argv) {
    const c = await workerConfig(argv);
    return async () => {
      const { runQueueWorker } = await import("../../experiments/queue/worker.ts");
      const { lorascopeVersion } = await import("../../experiments/queue/jobs.ts");
      const { concurrency, lockSeconds } = c;
      return runQueueWorker(c.queue, { concurrency, lockSeconds, version: lorascopeVersion() });
    };
  },
};
