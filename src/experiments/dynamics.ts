// Per-module LoRA dynamics of a finetune of any multi-layer model (the sentence encoder, the causal
// LMs) — the toy model's instrumentation (train/toy-trainer.ts) carried over. The recorder reads only
// the LoRA taps of lora/linear.ts, so the model is a function the study passes in.
//
// On one fixed measuring batch, every few steps, each LoRA module reports RMS(Z_A) and RMS(Z_B)
// over the batch's real tokens and coordinates (Z_A = x·Aᵀ,
// Z_B = Z_A·Bᵀ before the scaling s, as the `Tap` of lora/linear.ts sees them), and the one-interval
// decomposition of ΔZ_B of Hayou, Ghosh & Yu (2024):
//   δ¹ = ΔZ_A·B_{t−1}ᵀ,  δ² = Z_A^{t−1}·ΔBᵀ,  δ³ = ΔZ_A·ΔBᵀ      (ΔZ_B = δ¹ + δ² + δ³)
// between consecutive measurements. In a stack of layers a module's input x moves too (the layers
// below it are adapted), so ΔZ_A = A_t·x_t − A_{t−1}·x_{t−1} includes that change: the feature
// change the module passes on, which is what the paper's stability argument is about.
//
// Every norm is computed on the host in float64 from r × r Gram matrices: ‖Z·Mᵀ‖²_F = Σᵢⱼ (ZᵀZ)ᵢⱼ(MᵀM)ᵢⱼ
// for Z [T, r], M [out, r], so nothing [T, out]-sized is formed.
import { getPath, isTensor, type Params } from "../core/tree.ts";
import { disposeTree, jit, read, refTree, type Tensor } from "../engine/index.ts";
import { context as loraContext } from "../lora/linear.ts";
import type { Ctx } from "../nn/context.ts";
import { meanDynamics, type DynamicsPoint } from "./rows.ts";

/** One module at one measurement. δ's are NaN at the first measurement. */
export interface ModuleDynamics {
  readonly step: number;
  readonly module: string;
  readonly rmsZA: number;
  readonly rmsZB: number;
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
}

interface Snapshot {
  /** Z_A rows of the real tokens, [T, r] row-major. */
  readonly za: Float64Array;
  /** lora_B.weight [out, r] row-major. */
  readonly b: Float64Array;
  readonly out: number;
}

/** ZᵀZ [r, r] of a row-major [rows, r] matrix. */
function gram(z: Float64Array, r: number): Float64Array {
  const g = new Float64Array(r * r);
  for (let o = 0; o < z.length; o += r) {
    for (let i = 0; i < r; i++) {
      const zi = z[o + i] as number;
      for (let j = 0; j < r; j++) g[i * r + j] = (g[i * r + j] as number) + zi * (z[o + j] as number);
    }
  }
  return g;
}

/** RMS of Z·Mᵀ over its [T, out] entries, from the two Gram matrices. */
function rmsProduct(gz: Float64Array, gm: Float64Array, count: number): number {
  let s = 0;
  for (let i = 0; i < gz.length; i++) s += (gz[i] as number) * (gm[i] as number);
  return Math.sqrt(Math.max(0, s) / count);
}

const minus = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v - (b[i] as number));

export interface DynamicsRecorder {
  /** Measure `params` (borrowed) at `step`; one entry per LoRA module, in path order. */
  record(step: number, params: Params): Promise<ModuleDynamics[]>;
  /** The previous measurement (what the next δ's are taken against), for a checkpoint. */
  exportState(): Map<string, Float64Array>;
  /** Continue from an exported previous measurement (a resumed run). */
  importState(state: ReadonlyMap<string, Float64Array>): void;
}

/** The model on the measuring batch: the recorder jits it, taps Z_A and drops the output. */
export interface MeasuringPass {
  /** The model's output on `batch` under `ctx`. Consumes `params` and `batch`. */
  readonly forward: (params: Params, ctx: Ctx, batch: Tensor[]) => Tensor;
  /** A fresh (owned) copy of the measuring batch's tensors, the same every call. */
  readonly batch: () => Tensor[];
  /**
   * The positions that count, as lengths: Z_A of every module has the batch's leading axes [B, L, …, r];
   * sequence b's real tokens are its first lengths[b] positions (the rest is padding).
   */
  readonly lengths: readonly number[];
  /** L, the padded length of the measuring batch. */
  readonly length: number;
}

/** A recorder for one run on one measuring batch; `scaling` is the adapter's s. */
export function dynamicsRecorder(pass: MeasuringPass, scaling: number): DynamicsRecorder {
  const { lengths, length: L } = pass;
  // Z_A of every LoRA module, as outputs of one jitted forward (the tap sees tracers inside jit).
  const zas = jit((p: Params, batch: Tensor[]) => {
    const z: Record<string, Tensor> = {};
    const ctx = loraContext({ scaling, tap: (path, name, t) => (name === "Z_A" ? (z[path] = t) : t.dispose()) });
    pass.forward(p, ctx, batch).dispose();
    return z;
  }) as unknown as (p: Params, batch: Tensor[]) => Record<string, Tensor>;
  let prev: Map<string, Snapshot> | undefined;

  return {
    async record(step, params) {
      const z = zas(refTree(params), pass.batch());
      const now = new Map<string, Snapshot>();
      for (const path of Object.keys(z).sort()) {
        const t = z[path] as Tensor;
        const r = t.shape[t.shape.length - 1] as number;
        const all = await read(t); // [B, L, r]
        const za = new Float64Array(lengths.reduce((a, n) => a + n, 0) * r);
        let o = 0;
        lengths.forEach((n, b) => {
          za.set(all.subarray(b * L * r, (b * L + n) * r), o); // the sequence's real tokens
          o += n * r;
        });
        const bw = getPath(params, `${path}.lora_B.weight`);
        if (!isTensor(bw)) throw new Error(`dynamics: ${path} has no lora_B.weight`);
        now.set(path, { za, b: Float64Array.from(await read(bw)), out: bw.shape[0] as number });
      }
      disposeTree(z);
      const rows: ModuleDynamics[] = [];
      for (const [module, s] of now) {
        const r = s.b.length / s.out;
        const tokens = s.za.length / r;
        const count = tokens * s.out;
        const gz = gram(s.za, r);
        const entry = {
          step,
          module,
          rmsZA: Math.sqrt(s.za.reduce((a, v) => a + v * v, 0) / s.za.length),
          rmsZB: rmsProduct(gz, gram(s.b, r), count),
        };
        const p = prev?.get(module);
        if (p === undefined) {
          rows.push({ ...entry, delta1: NaN, delta2: NaN, delta3: NaN });
          continue;
        }
        const gdz = gram(minus(s.za, p.za), r);
        const gdb = gram(minus(s.b, p.b), r);
        rows.push({
          ...entry,
          delta1: rmsProduct(gdz, gram(p.b, r), count),
          delta2: rmsProduct(gram(p.za, r), gdb, count),
          delta3: rmsProduct(gdz, gdb, count),
        });
      }
      prev = now;
      return rows;
    },
    exportState() {
      const out = new Map<string, Float64Array>();
      for (const [module, p] of prev ?? []) {
        out.set(`${module}#za`, p.za);
        out.set(`${module}#b`, p.b);
        out.set(`${module}#out`, Float64Array.of(p.out));
      }
      return out;
    },
    importState(state) {
      const next = new Map<string, Snapshot>();
      for (const [name, za] of state) {
        if (!name.endsWith("#za")) continue;
        const module = name.slice(0, -3);
        const b = state.get(`${module}#b`);
        const out = state.get(`${module}#out`)?.[0];
        if (b === undefined || out === undefined) throw new Error(`dynamics state of ${module} is incomplete`);
        next.set(module, { za, b, out });
      }
      prev = next.size === 0 ? undefined : next;
    },
  };
}

/** Mean over modules per measurement, in step order. */
export function meanOverModules(rows: readonly ModuleDynamics[]): DynamicsPoint[] {
  const bySteps = new Map<number, ModuleDynamics[]>();
  for (const r of rows) bySteps.set(r.step, [...(bySteps.get(r.step) ?? []), r]);
  return [...bySteps].sort(([a], [b]) => a - b).map(([step, xs]) => meanDynamics(xs, step));
}
