// Child-process entry of the USE-lite sweep: one single-threaded engine, finetunes received over IPC
// (../worker-pool.ts), each run's row written atomically by runSweepJob.
import { initEngine } from "../../engine/index.ts";
import { runSweepJob, type EncoderSweepJob } from "./sweep.ts";
import { servePool } from "../worker-pool.ts";

if (process.send !== undefined) {
  await initEngine({ threads: 1 });
  servePool<EncoderSweepJob>(runSweepJob);
}
