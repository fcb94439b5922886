// Child-process entry of the toy sweep runner (../worker-pool.ts): one single-threaded engine per
// process, jobs received over IPC. Each job's rows are written to a temp file and renamed into
// place, so a kill loses only jobs in flight. With `stateOut` set, the job's replay files
// (state.ts) are written first, then its rows: a job whose rows exist has its replay files too.
import { initEngine } from "../../engine/index.ts";
import { runToyJob, type ToyJob } from "./job.ts";
import { writeToyJobState } from "./state.ts";
import { writeJobFile } from "./store.ts";
import type { ToySpec } from "./spec.ts";
import { servePool } from "../worker-pool.ts";

/** What the runner sends for one job. */
export interface ToyWorkerJob {
  readonly spec: ToySpec;
  readonly job: ToyJob;
  readonly file: string;
  /** Output folder to write replay files under (`--save-state`), or null. */
  readonly stateOut: string | null;
}

if (process.send !== undefined) {
  await initEngine({ threads: 1 });
  servePool<ToyWorkerJob>(async (m, progress) => {
    const result = await runToyJob(m.spec, m.job, progress);
    if (m.stateOut !== null) await writeToyJobState(m.stateOut, m.spec, m.job, result);
    writeJobFile(m.file, result.rows);
  });
}
