// The --queue flag every sweep command takes (reproduce, sweep): the runs go to a Redis job queue
// served by `lorascope worker` processes on any machine, instead of local processes
// (experiments/queue/, README "Sweeps on many machines"). The URL is checked here, before any work.
import { parseQueueUrl, type QueueTarget } from "../experiments/queue/url.ts";
import type { FlagTable } from "./flags.ts";

export const QUEUE_FLAG = {
  queue: {
    kind: "string",
    value: "url",
    setting: false,
    help: "run through a Redis job queue, redis://[user:password@]host:port[/db] (rediss:// for TLS), served by `lorascope worker` on any machine; rows are still written to the output folder",
  },
} as const satisfies FlagTable;

/** The queue a `--queue` value names, or undefined when it was not given. */
export function queueTarget(raw: string | undefined): QueueTarget | undefined {
  return raw === undefined ? undefined : parseQueueUrl(raw);
}

/** The line a sweep prints when it waits on a queue. */
export function queueNote(command: string, t: QueueTarget, raw: string): string {
  return `${command}: runs go to the queue at ${t.shown}; start workers with: lorascope worker --queue ${raw.replace(/\/\/([^@/]*):[^@/]*@/, "//$1:***@")}\n`;
}
