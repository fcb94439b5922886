// The job queue's cost and its scaling on this machine (bench/run.ts's "queue" configuration): a
// redis-server started for the run, `lorascope worker` processes, and toy sweeps through the queue
// (src/experiments/queue/) against the local pool (src/experiments/worker-pool.ts).
//
// 1. Per-job overhead: J one-run jobs of a single step (width 8), so that a job's own work is only
//    its fixed set-up. The local pool's time includes starting its one child; the queue's worker is
//    started and waiting beforehand (as a worker on another machine would be).
// 2. Throughput: J jobs of real work (widths 64 and 128, 12 runs × 50 steps each) through the queue
//    with 1 and then 2 waiting worker processes, and on the local pool with 1 and 2 children.
//
//   node --import tsx bench/queue.ts [--quick]
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { report } from "./stats.ts";
import { CLI_ARGS } from "../test/support/cli.ts";
import { redisServer, startRedis } from "../test/support/redis.ts";
import { toySpec, type ToySpec } from "../src/experiments/toy/spec.ts";
import { runToySweep } from "../src/experiments/toy/runner.ts";
import { parseQueueUrl } from "../src/experiments/queue/url.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const quick = process.argv.includes("--quick");
const bin = redisServer();
if (bin === undefined) throw new Error("redis-server is not installed: apt-get install -y redis-server");
const redis = await startRedis(bin);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-bench-queue-"));
let fresh = 0;
const outDir = () => path.join(tmp, `out-${fresh++}`);

/** `n` worker processes, resolved once each says it is waiting. */
async function startWorkers(n: number): Promise<ChildProcess[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [...CLI_ARGS, "worker", "--queue", redis.url], { cwd: root, stdio: ["ignore", "ignore", "pipe"] }),
  );
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          let text = "";
          c.stderr?.on("data", (d: Buffer) => {
            text += d.toString();
            if (text.includes("waiting for jobs")) resolve();
          });
          c.once("exit", (code) => reject(new Error(`a worker exited with ${code}: ${text}`)));
        }),
    ),
  );
  return children;
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGTERM")))));
}

/** Seconds for the sweep of `spec`, on the queue (workers already waiting) or on `pool` local children. */
async function timed(spec: ToySpec, how: { queue: true } | { pool: number }): Promise<number> {
  const t0 = performance.now();
  const r = await runToySweep(spec, outDir(), "queue" in how ? { queue: parseQueueUrl(redis.url) } : { workers: how.pool });
  if (r.runsSkipped !== 0) throw new Error("a benchmark sweep found finished runs");
  return (performance.now() - t0) / 1000;
}

/** `jobs` (width, seed) jobs: one width's seeds 0…jobs−1, or several widths' (seeds spread). */
const tinySpec = (jobs: number) =>
  toySpec({ widths: [8], seeds: Array.from({ length: jobs }, (_, i) => i), lrs: [0.01], inits: ["init-a"], steps: 1, logEvery: 1, r: 2, alpha: 2 });
// `salt` shifts the learning rates a hair, so that each configuration's jobs are new to the queue.
const workSpec = (seeds: number, salt: number) =>
  toySpec({
    widths: [64, 128],
    seeds: Array.from({ length: seeds }, (_, i) => i),
    lrs: Array.from({ length: 6 }, (_, i) => 2 ** (-10 + i) * (1 + salt * 1e-6)),
    steps: quick ? 10 : 50,
    logEvery: 10,
    r: 4,
    alpha: 4,
  });

try {
  const J = quick ? 8 : 32;
  // Warm-up: a worker's first job compiles the engine's kernels; not what is measured.
  let workers = await startWorkers(1);
  await timed(tinySpec(2), { queue: true });
  const tiny = tinySpec(J);
  const queue1Tiny = await timed(toySpec({ ...tiny, lrs: [0.011] }), { queue: true });
  const poolTiny = await timed(toySpec({ ...tiny, lrs: [0.012] }), { pool: 1 });

  const seeds = quick ? 1 : 4; // jobs = 2 widths × seeds
  const queue1 = await timed(workSpec(seeds, 1), { queue: true });
  await stop(workers);
  workers = await startWorkers(2);
  await timed(tinySpec(4), { queue: true }); // both warm
  const queue2 = await timed(workSpec(seeds, 2), { queue: true });
  await stop(workers);
  const pool1 = await timed(workSpec(seeds, 3), { pool: 1 });
  const pool2 = await timed(workSpec(seeds, 4), { pool: 2 });
  report({
    bench: "queue",
    tinyJobs: J,
    queue1TinyS: queue1Tiny,
    poolTinyS: poolTiny,
    workJobs: 2 * seeds,
    workRunsPerJob: 12,
    workSteps: quick ? 10 : 50,
    queue1S: queue1,
    queue2S: queue2,
    pool1S: pool1,
    pool2S: pool2,
  });
} finally {
  await redis.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
