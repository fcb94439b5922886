// Grid → runs → jobs. A job groups the runs that share a (width, seed), because they share the
// frozen student and its features (computed once per job, job.ts).
import { createHash } from "node:crypto";
import { runId, type RunKey } from "./rows.ts";
import type { ToyJob } from "./job.ts";
import { protocolHash, type ToySpec } from "./spec.ts";

/** Every run of the grid, ordered width, seed, init, lr. */
export function gridRuns(spec: ToySpec): RunKey[] {
  const out: RunKey[] = [];
  for (const width of spec.widths)
    for (const seed of spec.seeds)
      for (const init of spec.inits) for (const lr of spec.lrs) out.push({ width, seed, init, lr });
  return out;
}

/** Relative cost of a job: its adapter-steps times the width (each step is O(N·n·r) per adapter). */
export function jobCost(spec: ToySpec, job: ToyJob): number {
  return job.runs.length * spec.steps * job.width;
}

/**
 * The jobs still to do: runs whose id is in `done` are skipped, the rest grouped by (width, seed).
 * Most expensive first, so parallel workers finish together.
 */
export function pendingJobs(spec: ToySpec, done: ReadonlySet<string>): ToyJob[] {
  const groups = new Map<
    string,
    { width: number; seed: number; runs: { init: ToyJob["runs"][number]["init"]; lr: number }[] }
  >();
  for (const width of spec.widths) {
    for (const seed of spec.seeds) {
      for (const init of spec.inits) {
        for (const lr of spec.lrs) {
          if (done.has(runId({ width, seed, init, lr }))) continue;
          const g = `${width}/${seed}`;
          let job = groups.get(g);
          if (job === undefined) {
            job = { width, seed, runs: [] };
            groups.set(g, job);
          }
          job.runs.push({ init, lr });
        }
      }
    }
  }
  return [...groups.values()].sort((a, b) => jobCost(spec, b) - jobCost(spec, a));
}

/** File-name id of a job: protocol hash, width, seed and a hash of its run list. */
export function jobId(spec: ToySpec, job: ToyJob): string {
  const runs = createHash("sha256")
    .update(JSON.stringify(job.runs.map((r) => runId({ width: job.width, seed: job.seed, init: r.init, lr: r.lr }))))
    .digest("hex")
    .slice(0, 8);
  return `${protocolHash(spec)}-n${job.width}-s${job.seed}-${runs}`;
}
