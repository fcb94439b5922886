// Per-module norms of a loaded adapter, on the host, without forming the [out, in] update B·A:
//   ‖B·A‖_F² = trace(Aᵀ Bᵀ B A) = trace((BᵀB)(AAᵀ)) = Σ_ij (BᵀB)_ij (AAᵀ)_ij   (both Grams symmetric)
// which costs O(r²·(in + out)) instead of O(out·in·r). Sums run in float64.
import { scaling } from "../lora/config.ts";
import type { FloatTensor, LoadedAdapter } from "./peft.ts";

/**
 * B·A counts as zero when ‖B·A‖_F ≤ ZERO_TOL·‖A‖_F·‖B‖_F (the right side bounds ‖B·A‖_F). Exact
 * zeros (a zero factor, Init[A]/Init[B] at step 0) give 0; an orthogonal-init pair stored in float32
 * cancels to about 1e-7 relative, which this tolerance still calls zero.
 */
export const ZERO_TOL = 1e-6;

export interface ModuleSummary {
  readonly name: string;
  /** [r, in] */
  readonly A: readonly number[];
  /** [out, r] */
  readonly B: readonly number[];
  readonly normA: number;
  readonly normB: number;
  /** ‖s·B·A‖_F with s the adapter's scaling. */
  readonly normDelta: number;
  readonly deltaIsZero: boolean;
}

function frob(t: FloatTensor): number {
  let s = 0;
  for (const v of t.data) s += v * v;
  return Math.sqrt(s);
}

/** The r×r Gram matrix of the rows of a row-major [r, n] matrix: G = M·Mᵀ. */
function rowGram(data: Float32Array, r: number, n: number): Float64Array {
  const g = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (data[i * n + k] as number) * (data[j * n + k] as number);
      g[i * r + j] = s;
      g[j * r + i] = s;
    }
  }
  return g;
}

/** The r×r Gram matrix of the columns of a row-major [m, r] matrix: G = Mᵀ·M. */
function colGram(data: Float32Array, m: number, r: number): Float64Array {
  const g = new Float64Array(r * r);
  for (let k = 0; k < m; k++) {
    for (let i = 0; i < r; i++) {
      const x = data[k * r + i] as number;
      if (x === 0) continue;
      for (let j = 0; j < r; j++) g[i * r + j] = (g[i * r + j] as number) + x * (data[k * r + j] as number);
    }
  }
  return g;
}

/** ‖B·A‖_F for A [r, in] and B [out, r], via the r×r Grams (see the file comment). */
export function productNorm(A: FloatTensor, B: FloatTensor): number {
  const [r = 0, inDim = 0] = A.shape;
  const [outDim = 0] = B.shape;
  const gA = rowGram(A.data, r, inDim); // A·Aᵀ      [r, r]
  const gB = colGram(B.data, outDim, r); // Bᵀ·B     [r, r]
  let tr = 0;
  for (let i = 0; i < r * r; i++) tr += (gA[i] as number) * (gB[i] as number);
  return Math.sqrt(Math.max(0, tr)); // round-off can push an exact-zero trace slightly negative
}

export function summarizeAdapter(loaded: LoadedAdapter): ModuleSummary[] {
  const s = scaling(loaded.config);
  return [...loaded.modules].map(([name, { A, B }]) => {
    const normA = frob(A);
    const normB = frob(B);
    const prod = productNorm(A, B);
    return {
      name,
      A: [...A.shape],
      B: [...B.shape],
      normA,
      normB,
      normDelta: Math.abs(s) * prod,
      deltaIsZero: prod <= ZERO_TOL * normA * normB,
    };
  });
}
