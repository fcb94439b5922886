// Child-process entry of the language-model sweep: one single-threaded engine, finetunes received over
// IPC (../worker-pool.ts), each run's row written atomically by runLmSweepJob.
import { initEngine } from "../../engine/index.ts";
import { runLmSweepJob, type LmSweepJob } from "./sweep.ts";
import { servePool } from "../worker-pool.ts";

if (process.send !== undefined) {
  await initEngine({ threads: 1 });
  servePool<LmSweepJob>(runLmSweepJob);
}
