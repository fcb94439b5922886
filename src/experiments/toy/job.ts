// One job of the toy sweep: every run sharing a (width, seed) — all learning rates and inits — built
// on one frozen student and trained together (train/toy-trainer.ts). Returns rows (rows.ts).
import { prng } from "../../core/index.ts";
import { initLoraFactors } from "../../lora/init.ts";
import type { InitScheme } from "../../lora/config.ts";
import { makeToyBase, makeToyTasks, toyFeatures, type ToyBase, type ToyTasks } from "../../models/toy.ts";
import { tensor } from "../../engine/index.ts";
import { trainToyAdapters, type ToyAdapter, type ToyData, type ToyRunResult } from "../../train/toy-trainer.ts";
import type { ToyOptimizer } from "../../train/toy-step.ts";
import type { FinalRow, Row, RunKey, StepRow } from "./rows.ts";
import type { ToySpec } from "./spec.ts";

export interface ToyJob {
  readonly width: number;
  readonly seed: number;
  readonly runs: readonly { readonly init: InitScheme; readonly lr: number }[];
}

export function toyOptimizer(spec: ToySpec): ToyOptimizer {
  switch (spec.optimizer) {
    case "adam":
      return { kind: "adam", beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps };
    case "signsgd":
      return { kind: "signsgd" };
    case "sgd":
      return { kind: "sgd" };
    default: {
      const never: never = spec.optimizer;
      throw new Error(`unknown optimizer ${String(never)}`);
    }
  }
}

/** Initial factors of one init scheme at one (width, seed); the same for every learning rate. */
export function toyAdapterInit(
  spec: ToySpec,
  seed: number,
  width: number,
  init: InitScheme,
): { A: Float32Array; B: Float32Array } {
  const root = prng.key(seed);
  const k = prng.fold(prng.fold(root, `adapter:${init}`), width);
  return initLoraFactors(k, init, { inFeatures: width, outFeatures: width, r: spec.r });
}

export interface ToyJobResult {
  readonly rows: Row[];
  /** Per run, in `job.runs` order (final factors for --save-state). */
  readonly results: ToyRunResult[];
  /** Per run, in `job.runs` order: the factors it started from (PEFT layout, shared per init). */
  readonly adapters: readonly ToyAdapter[];
  /** The frozen student and the data of the job's (width, seed), for the replay files (state.ts). */
  readonly base: ToyBase;
  readonly tasks: ToyTasks;
}

/** Run one job; `onProgress(fraction)` reports the share of its adapter-steps done. */
/**
 * The trainer's input for one (width, seed): task B's frozen features H and C (train and test), the
 * targets and the fitted readout, uploaded to the engine. The caller owns (and disposes) the tensors.
 */
export function toyData(spec: ToySpec, tasks: ToyTasks, base: ToyBase): ToyData {
  const d = spec.inputDim;
  const train = toyFeatures(tasks.xB.subarray(0, spec.nTrain * d), base, d);
  const test = toyFeatures(tasks.xB.subarray(spec.nTrain * d), base, d);
  return {
    width: base.width,
    r: spec.r,
    H: train.H,
    C: train.C,
    y: tensor(tasks.yB.subarray(0, spec.nTrain), [spec.nTrain]),
    Htest: test.H,
    Ctest: test.C,
    ytest: tensor(tasks.yB.subarray(spec.nTrain), [spec.nTest]),
    w: tensor(base.w, [base.width]),
  };
}

export async function runToyJob(
  spec: ToySpec,
  job: ToyJob,
  onProgress: (fraction: number) => void = () => {},
): Promise<ToyJobResult> {
  const n = job.width;
  const root = prng.key(job.seed);
  const tasks = makeToyTasks(spec, root);
  const base = await makeToyBase(spec, root, tasks, n);
  const data = toyData(spec, tasks, base);
  const inits = new Map<InitScheme, { A: Float32Array; B: Float32Array }>();
  const adapters: ToyAdapter[] = job.runs.map(({ init, lr }) => {
    let f = inits.get(init);
    if (f === undefined) {
      f = toyAdapterInit(spec, job.seed, n, init);
      inits.set(init, f);
    }
    return { lr, A0: f.A, B0: f.B };
  });
  const total = adapters.length * spec.steps;
  let results: ToyRunResult[];
  try {
    const opts = {
      steps: spec.steps,
      logEvery: spec.logEvery,
      optimizer: toyOptimizer(spec),
      scale: spec.alpha / spec.r,
      divergeFactor: spec.divergeFactor,
      maxChunkElems: spec.maxChunkElems,
    };
    if (spec.batchAdapters) results = await trainToyAdapters(data, adapters, opts, (done) => onProgress(done / total));
    else {
      // One trainer call per run (K = 1) on the same frozen features: the baseline batching is measured against.
      results = [];
      for (const [i, a] of adapters.entries()) {
        results.push(
          ...(await trainToyAdapters(data, [a], opts, (done) => onProgress((i * spec.steps + done) / total))),
        );
      }
    }
  } finally {
    for (const t of [data.H, data.C, data.y, data.Htest, data.Ctest, data.ytest, data.w]) t.dispose();
  }
  const rows: Row[] = [];
  job.runs.forEach(({ init, lr }, i) => {
    const key: RunKey = { width: n, init, lr, seed: job.seed };
    const res = results[i] as ToyRunResult;
    for (const s of res.steps) rows.push({ ...key, kind: "step", ...s } satisfies StepRow);
    rows.push({ ...key, kind: "final", ...res.final } satisfies FinalRow);
  });
  return { rows, results, adapters, base, tasks };
}
