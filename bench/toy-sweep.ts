// One lorascope toy sweep job, timed: `runs` adapters (init-a/init-b × runs/2 learning rates
// 2^-11…2^-1) at one width, T steps, N = 1000 full batch, either batched (all adapters in one trainer
// call, chunked by maxChunkElems) or one at a time (spec.batchAdapters = false: one trainer call per
// run, the frozen features still built once). The code path is runToyJob, the one `reproduce` uses.
// trainS = runToyJob's wall time minus the frozen setup timed alone just before it (after one
// untimed setup that warms the engine), so it keeps the jit tracing/compilation of every trainer call.
//
//   LORASCOPE_THREADS=1 node --import tsx bench/toy-sweep.ts --width 1024 --runs 24 --steps 50 \
//     [--one-at-a-time] [--reps 1]
import { initEngine, engineThreads } from "../src/engine/index.ts";
import { prng } from "../src/core/index.ts";
import { makeToyBase, makeToyTasks, toyFeatures } from "../src/models/toy.ts";
import { runToyJob } from "../src/experiments/toy/job.ts";
import { pendingJobs } from "../src/experiments/toy/grid.ts";
import { logSpaced, toySpec } from "../src/experiments/toy/spec.ts";
import { median, flag, report } from "./stats.ts";

const width = flag("width", 1024);
const runs = flag("runs", 24);
const steps = flag("steps", 50);
const reps = flag("reps", 2); // the first rep includes kernel compilation (reported as coldTrainS)
const batched = !process.argv.includes("--one-at-a-time");

await initEngine();
const maxChunkElems = flag("max-chunk-elems", 2 ** 25); // K·N·n per trainer call
const spec = toySpec({
  widths: [width],
  lrs: logSpaced(2 ** -11, 2 ** -1, Math.max(1, runs / 2)),
  seeds: [0],
  steps,
  batchAdapters: batched,
  maxChunkElems,
});
const [job] = pendingJobs(spec, new Set());
if (job === undefined) throw new Error("empty grid");

/** The frozen part alone (teacher, data, ridge-fitted student, H and C uploaded), to subtract. */
async function setupOnly(): Promise<number> {
  const t0 = performance.now();
  const root = prng.key(0);
  const tasks = makeToyTasks(spec, root);
  const base = await makeToyBase(spec, root, tasks, width);
  const f = toyFeatures(tasks.xB.subarray(0, spec.nTrain * spec.inputDim), base, spec.inputDim);
  f.H.dispose();
  f.C.dispose();
  return (performance.now() - t0) / 1000;
}

await setupOnly(); // warm-up
const setups: number[] = [];
const trains: number[] = [];
let lossLast: number[] = [];
for (let i = 0; i < reps; i++) {
  const setupS = await setupOnly();
  const t0 = performance.now();
  const { results } = await runToyJob(spec, job);
  setups.push(setupS);
  trains.push((performance.now() - t0) / 1000 - setupS);
  lossLast = results.slice(0, 4).map((r) => r.final.trainLoss);
}
const setupS = median(setups);
report({
  bench: "toy",
  stack: batched ? "lorascope-batched" : "lorascope-one-at-a-time",
  width,
  runs: job.runs.length,
  steps,
  setupS,
  trainS: median(trains.length > 1 ? trains.slice(1) : trains),
  trainTimes: trains,
  coldTrainS: trains[0],
  threads: engineThreads(),
  lossLast,
});
