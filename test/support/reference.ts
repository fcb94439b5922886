// Host float64 references for gradient checks: forward maps written with plain loops, and central
// finite differences of a scalar loss. Engine gradients (float32) are compared against these.
import * as prng from "../../src/core/prng.ts";
import { read, tensor, type Tensor } from "../../src/engine/index.ts";

/** A row-major float64 matrix [rows, cols] (also used for batches of vectors). */
export interface M {
  rows: number;
  cols: number;
  d: Float64Array;
}

export function m(rows: number, cols: number, d: ArrayLike<number>): M {
  return { rows, cols, d: Float64Array.from(d) };
}

export function randomM(key: prng.Key, rows: number, cols: number, std = 1): M {
  return m(rows, cols, prng.normal(key, [rows, cols], std));
}

/** x [n,in] · wᵀ (w [out,in]) + b → [n,out]. */
export function linearRef(x: M, w: M, b?: Float64Array): M {
  const y = new Float64Array(x.rows * w.rows);
  for (let i = 0; i < x.rows; i++) {
    for (let o = 0; o < w.rows; o++) {
      let s = b === undefined ? 0 : (b[o] as number);
      for (let k = 0; k < x.cols; k++) s += (x.d[i * x.cols + k] as number) * (w.d[o * w.cols + k] as number);
      y[i * w.rows + o] = s;
    }
  }
  return { rows: x.rows, cols: w.rows, d: y };
}

/** LoRA linear: x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ. */
export function loraLinearRef(x: M, w: M, b: Float64Array | undefined, a: M, bb: M, s: number): M {
  const y = linearRef(x, w, b);
  const zb = linearRef(linearRef(x, a), bb);
  for (let i = 0; i < y.d.length; i++) y.d[i] = (y.d[i] as number) + s * (zb.d[i] as number);
  return y;
}

/** ½·Σ (y − t)². */
export function halfSquaredError(y: M, t: M): number {
  let l = 0;
  for (let i = 0; i < y.d.length; i++) l += 0.5 * ((y.d[i] as number) - (t.d[i] as number)) ** 2;
  return l;
}

/**
 * Central differences (L(θ + h·e_i) − L(θ − h·e_i)) / 2h for every entry of `theta`, in float64.
 * Truncation error is O(h²·L'''), about 1e-8 here with h = 1e-4: negligible next to float32 rounding.
 */
export function centralDifferences(theta: Float64Array, loss: () => number, h = 1e-4): Float64Array {
  const g = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const v = theta[i] as number;
    theta[i] = v + h;
    const up = loss();
    theta[i] = v - h;
    const down = loss();
    theta[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The engine's float32 copy of a host matrix (owned). */
export function toTensor(x: M): Tensor {
  return tensor(Float32Array.from(x.d), [x.rows, x.cols]);
}

export function vecTensor(v: Float64Array): Tensor {
  return tensor(Float32Array.from(v), [v.length]);
}

/**
 * Gradient tolerance: |g − fd| ≤ 1e-4 + 1e-3·|fd|. The engine computes in float32 (relative rounding
 * ~1e-7 per op, accumulated over sums of ≤ 64 terms), the reference in float64; a wrong transpose, a
 * missing scaling factor or a dropped term gives errors of order |fd| itself, far above this bound.
 */
export async function assertGradClose(got: Tensor, want: Float64Array, label: string): Promise<void> {
  const g = await read(got);
  if (g.length !== want.length) throw new Error(`${label}: gradient has ${g.length} entries, expected ${want.length}`);
  for (let i = 0; i < g.length; i++) {
    const err = Math.abs((g[i] as number) - (want[i] as number));
    if (err > 1e-4 + 1e-3 * Math.abs(want[i] as number)) {
      throw new Error(`${label}[${i}]: engine ${g[i]} vs finite differences ${want[i]} (error ${err})`);
    }
  }
}

export async function maxAbsDiff(a: Tensor, b: Tensor): Promise<number> {
  const x = await read(a);
  const y = await read(b);
  if (x.length !== y.length) throw new Error(`maxAbsDiff(): ${x.length} vs ${y.length} entries`);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs((x[i] as number) - (y[i] as number)));
  return d;
}
