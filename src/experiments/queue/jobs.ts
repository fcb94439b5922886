// What travels through the queue. A job is one unit of a sweep's work (a run, or for the toy study a
// (width, seed) group of runs that share their frozen student) under its study's name; it carries
// the settings hash the enqueuing command computed and lorascope's version, which a worker checks
// before running it (queue/worker.ts). Its result is the row file's text exactly as the local runner
// would write it, or the error the run threw; the enqueuing command writes it into its own output
// folder, so workers need no access to that folder.
import { readFileSync } from "node:fs";
import type { WorkerError } from "../worker-pool.ts";

/** The studies a worker can run (queue/studies.ts). */
export const QUEUE_STUDIES = ["toy", "encoder"] as const;
export type QueueStudyName = (typeof QUEUE_STUDIES)[number];

export interface QueuedJob {
  readonly study: QueueStudyName;
  /** The hash of the settings the job's run depends on, as the enqueuing lorascope computed it. */
  readonly settingsHash: string;
  /** lorascope's version on the enqueuing machine. */
  readonly version: string;
  /** The study's job as its local worker receives it, without the output file. */
  readonly payload: unknown;
}

export type QueuedResult =
  | { readonly ok: true; readonly rowsText: string }
  | { readonly ok: false; readonly error: WorkerError };

/** A job as the enqueuing side keeps it: its queue id, what to send, and the row file its result goes to. */
export interface QueueWork {
  readonly id: string;
  readonly job: QueuedJob;
  readonly file: string;
  /** Runs the job holds (the toy study groups several), for progress. */
  readonly runs: number;
}

/** lorascope's version (package.json at the package root, from src/ and from dist/ alike). */
export function lorascopeVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
