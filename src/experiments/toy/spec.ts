// The toy reproduction's one typed spec: every protocol choice is a field with a default, validated
// once here, and saved as spec.json next to the results.
//
// Defaults follow the "sp, perturbed teacher" protocol of docs/toy-protocol.md (a PyTorch study of
// Hayou, Ghosh & Yu 2024's toy experiment): d = 5, teacher width 64, N = 1000
// train / 100 test points, r = 4, α = r, Adam (0.9, 0.999, 1e-8), full batch, T = 50 steps.
// Default grid cost, measured on a loaded 2-core machine: one n = 4096 job (32 runs × 50 steps) took
// 52 s of CPU, so the full default (7 widths × 3 seeds × 32 runs) is ≈ 310 s of CPU, ≈ 3 min on 2 idle cores.
import { UserError, check } from "../../core/errors.ts";
import { INIT_SCHEMES, type InitScheme } from "../../lora/config.ts";
import { settingsHash } from "../store.ts";

export const TOY_OPTIMIZERS = ["adam", "signsgd", "sgd"] as const;
export type ToyOptimizerName = (typeof TOY_OPTIMIZERS)[number];

/** The adapter inits a toy sweep may compare: those whose product B·A is zero at step 0. */
export const TOY_INITS = [
  "init-a",
  "init-b",
  "gaussian",
  "gaussian-b",
  "orthogonal",
] as const satisfies readonly InitScheme[];

export interface ToySpec {
  // ---- grid (which runs) ----
  readonly widths: readonly number[];
  readonly lrs: readonly number[];
  readonly seeds: readonly number[];
  readonly inits: readonly InitScheme[];
  // ---- protocol (how each run is done; hashed into the resume key) ----
  /** Input dimension d. */
  readonly inputDim: number;
  /** Teacher width m. */
  readonly teacherWidth: number;
  readonly nTrain: number;
  readonly nTest: number;
  /** LoRA rank r and lora_alpha (scaling s = α/r). */
  readonly r: number;
  readonly alpha: number;
  /** Readout init before the ridge fit: "sp" w₀ ~ N(0, 1/n), "mup" w₀ ~ N(0, 1/n²). */
  readonly readoutInit: "sp" | "mup";
  /** Relative ridge strength: λ = ridge·tr(GGᵀ)/N. */
  readonly ridge: number;
  readonly steps: number;
  readonly optimizer: ToyOptimizerName;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** An adapter stops as diverged when its loss exceeds this multiple of its initial loss. */
  readonly divergeFactor: number;
  /** Step rows every this many steps (and at the last step). */
  readonly logEvery: number;
  // ---- execution (never changes results) ----
  /** Largest K·N·n tensor of one trainer chunk (floats); bounds memory under the 4 GiB wasm heap. */
  readonly maxChunkElems: number;
  /**
   * true: a job's runs share one trainer call (K adapters side by side, chunked by maxChunkElems);
   * false: one trainer call per run (K = 1), the frozen features still computed once per job. Only
   * for measuring what batching buys (bench/toy.ts); results agree to float32 rounding.
   */
  readonly batchAdapters: boolean;
}

/** Log-spaced values from min to max inclusive (count ≥ 2), or [min] when count is 1. */
export function logSpaced(min: number, max: number, count: number): number[] {
  if (count === 1) return [min];
  return Array.from({ length: count }, (_, i) =>
    Math.exp(Math.log(min) + ((Math.log(max) - Math.log(min)) * i) / (count - 1)),
  );
}

export const TOY_DEFAULTS: ToySpec = {
  widths: [64, 128, 256, 512, 1024, 2048, 4096],
  lrs: logSpaced(2 ** -14, 2 ** -1, 16),
  seeds: [0, 1, 2],
  inits: ["init-a", "init-b"],
  inputDim: 5,
  teacherWidth: 64,
  nTrain: 1000,
  nTest: 100,
  r: 4,
  alpha: 4,
  readoutInit: "sp",
  ridge: 0.01,
  steps: 50,
  optimizer: "adam",
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  divergeFactor: 100,
  logEvery: 10,
  maxChunkElems: 2 ** 25,
  batchAdapters: true,
};

/** A small grid for `--quick` (about a minute): fewer widths, learning rates, seeds and steps. */
export const TOY_QUICK: Partial<ToySpec> = {
  widths: [64, 256, 1024],
  lrs: logSpaced(2 ** -11, 2 ** -3, 5),
  seeds: [0, 1],
  steps: 30,
};

/**
 * Upper bounds, so that no setting runs forever or allocates past the engine: counts from what a
 * study can use, sizes from memory (toyJobBytes against the engine's 4 GiB wasm heap).
 */
export const TOY_LIMITS = {
  /** Learning rates outside [1e-12, 1e6] are not a study of anything (a denormal rate underflows in float32). */
  minLr: 1e-12,
  maxLr: 1e6,
  maxLrs: 1000,
  maxSeeds: 1000,
  maxSteps: 1_000_000,
  maxRank: 1024,
  maxWidth: 2 ** 20,
  /** Runs in one grid (widths × lrs × seeds × inits). */
  maxRuns: 1_000_000,
  /** The engine's WebAssembly heap. */
  heapBytes: 4 * 2 ** 30,
} as const;

/**
 * What one job at width n holds at its peak, roughly: the frozen features of the train and test
 * points [N, n] (float32) several times over (activations, their gradients, the readout's fit) and
 * one trainer chunk of K·N·n floats with its intermediates. An estimate to refuse hopeless settings
 * before allocating, not a promise.
 */
export function toyJobBytes(s: Pick<ToySpec, "nTrain" | "nTest" | "maxChunkElems">, n: number): number {
  return 4 * (8 * (s.nTrain + s.nTest) * n + 6 * Math.min(s.maxChunkElems, Math.max(s.nTrain * n, 1)));
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

function posInt(name: string, v: number, min = 1): void {
  check(Number.isInteger(v) && v >= min, `${name} must be an integer ≥ ${min}, got ${v}`);
}

function posNum(name: string, v: number): void {
  check(Number.isFinite(v) && v > 0, `${name} must be a positive number, got ${v}`);
}

/** Fill defaults and validate; throws a UserError naming the first bad field. */
export function toySpec(partial: Partial<ToySpec> = {}): ToySpec {
  const s: ToySpec = { ...TOY_DEFAULTS, ...partial };
  check(s.widths.length > 0, "widths must list at least one width");
  check(s.lrs.length > 0, "lrs must list at least one learning rate");
  check(s.seeds.length > 0, "seeds must list at least one seed");
  check(s.inits.length > 0, "inits must list at least one init scheme");
  posInt("r", s.r);
  check(s.r <= TOY_LIMITS.maxRank, `r must be at most ${TOY_LIMITS.maxRank}, got ${s.r}`);
  check(s.lrs.length <= TOY_LIMITS.maxLrs, `lrs must list at most ${TOY_LIMITS.maxLrs} learning rates, got ${s.lrs.length}`);
  check(s.seeds.length <= TOY_LIMITS.maxSeeds, `seeds must list at most ${TOY_LIMITS.maxSeeds} seeds, got ${s.seeds.length}`);
  for (const n of s.widths) {
    check(Number.isInteger(n) && n >= s.r, `every width must be an integer ≥ r = ${s.r}, got ${n}`);
    check(n <= TOY_LIMITS.maxWidth, `every width must be at most ${TOY_LIMITS.maxWidth}, got ${n}`);
    const need = toyJobBytes(s, n);
    check(
      need <= TOY_LIMITS.heapBytes,
      `width ${n} needs about ${gib(need)} in one engine, more than its ${gib(TOY_LIMITS.heapBytes)} heap; use widths up to about 65536`,
    );
  }
  for (const lr of s.lrs) {
    check(
      Number.isFinite(lr) && lr >= TOY_LIMITS.minLr && lr <= TOY_LIMITS.maxLr,
      `every learning rate must be between ${TOY_LIMITS.minLr} and ${TOY_LIMITS.maxLr}, got ${lr}`,
    );
  }
  check(new Set(s.lrs).size === s.lrs.length, "learning rates must not repeat");
  for (const seed of s.seeds)
    check(Number.isInteger(seed) && seed >= 0, `every seed must be a non-negative integer, got ${seed}`);
  for (const init of s.inits) {
    if (!(TOY_INITS as readonly string[]).includes(init)) {
      throw new UserError(
        (INIT_SCHEMES as readonly string[]).includes(init)
          ? `init "${init}" changes the model at step 0 and cannot be compared in the toy sweep; use ${TOY_INITS.join(", ")}`
          : `init "${init}" is not a known scheme; use one of ${TOY_INITS.join(", ")}`,
      );
    }
    if (init === "orthogonal") check(s.r % 2 === 0, `init "orthogonal" needs an even r, got r = ${s.r}`);
  }
  check(new Set(s.widths).size === s.widths.length, "widths must not repeat");
  check(new Set(s.seeds).size === s.seeds.length, "seeds must not repeat");
  check(new Set(s.inits).size === s.inits.length, "inits must not repeat");
  posInt("inputDim", s.inputDim);
  posInt("teacherWidth", s.teacherWidth);
  posInt("nTrain", s.nTrain, 2);
  posInt("nTest", s.nTest);
  posNum("alpha", s.alpha);
  check(
    s.readoutInit === "sp" || s.readoutInit === "mup",
    `readoutInit must be "sp" or "mup", got "${String(s.readoutInit)}"`,
  );
  posNum("ridge", s.ridge);
  posInt("steps", s.steps);
  check(s.steps <= TOY_LIMITS.maxSteps, `steps must be at most ${TOY_LIMITS.maxSteps}, got ${s.steps}`);
  const runs = s.widths.length * s.lrs.length * s.seeds.length * s.inits.length;
  check(runs <= TOY_LIMITS.maxRuns, `the grid has ${runs} runs; at most ${TOY_LIMITS.maxRuns} are allowed`);
  check(
    (TOY_OPTIMIZERS as readonly string[]).includes(s.optimizer),
    `optimizer must be one of ${TOY_OPTIMIZERS.join(", ")}, got "${String(s.optimizer)}"`,
  );
  check(s.beta1 >= 0 && s.beta1 < 1, `beta1 must be in [0, 1), got ${s.beta1}`);
  check(s.beta2 >= 0 && s.beta2 < 1, `beta2 must be in [0, 1), got ${s.beta2}`);
  posNum("eps", s.eps);
  check(
    Number.isFinite(s.divergeFactor) && s.divergeFactor > 1,
    `divergeFactor must be a number > 1, got ${s.divergeFactor}`,
  );
  posInt("logEvery", s.logEvery);
  posInt("maxChunkElems", s.maxChunkElems);
  check(typeof s.batchAdapters === "boolean", `batchAdapters must be true or false, got ${String(s.batchAdapters)}`);
  return s;
}

/** The fields that change a run's result (everything but the grid lists and execution knobs). */
export function protocolOf(s: ToySpec): Record<string, unknown> {
  const { widths: _w, lrs: _l, seeds: _s, inits: _i, maxChunkElems: _m, batchAdapters: _b, ...protocol } = s;
  return protocol;
}

/** Short stable hash of the protocol: rows from a different protocol are never reused. */
export function protocolHash(s: ToySpec): string {
  return settingsHash(protocolOf(s));
}
