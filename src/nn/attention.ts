// Causal scaled dot-product attention with grouped-query heads (Ainslie et al. 2023): H query
// heads share Hkv key/value heads, query head h reading kv head ⌊h / g⌋ with g = H / Hkv (HF
// `repeat_kv`). The kv heads are not repeated: the g query heads of a group are stacked along the
// query axis, so one batched matmul serves the group.
import { contiguous, jnn, np, tensor, type Tensor } from "../engine/index.ts";

/** Added to a masked score: exp(−1e9 − max) is 0 in float32, and unlike −∞ it keeps gradients finite. */
export const MASKED = -1e9;

/**
 * The additive causal mask [T, S] for T queries at positions offset, …, offset + T − 1 over S key
 * slots 0, …, S − 1: 0 where key j ≤ the query's position, MASKED elsewhere. Owned.
 */
export function causalBias(T: number, S: number, offset = 0): Tensor {
  const bias = new Float32Array(T * S);
  for (let t = 0; t < T; t++) for (let j = offset + t + 1; j < S; j++) bias[t * S + j] = MASKED;
  return tensor(bias, [T, S]);
}

/**
 * softmax(q·kᵀ·scale + bias)·v with heads merged: q [B, H, T, dh], k and v [B, Hkv, S, dh],
 * bias [T, S] → [B, T, H·dh] (contiguous). Consumes every tensor.
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, scale: number): Tensor {
  const [B, H, T, dh] = q.shape as [number, number, number, number];
  const [, Hkv, S] = k.shape as [number, number, number, number];
  const g = H / Hkv;
  const qg = q.mul(scale).reshape([B, Hkv, g * T, dh]); // heads h = kv·g + j stacked per kv head
  const scores = np.matmul(qg, k.transpose([0, 1, 3, 2])); // [B,Hkv,gT,dh]·[B,Hkv,dh,S] = [B, Hkv, gT, S]
  const masked = scores.reshape([B, Hkv, g, T, S]).add(bias); // bias [T, S] broadcasts
  // exp(logSoftmax) rather than jnn.softmax: eager grad through softmax's division leaks a buffer per
  // call in jax-js 0.1.25 (test/models-llama.test.ts counts them).
  const weights = np.exp(jnn.logSoftmax(masked, -1)).reshape([B, Hkv, g * T, S]); // [B, Hkv, gT, S]
  const heads = np.matmul(weights, v); // [B,Hkv,gT,S]·[B,Hkv,S,dh] = [B, Hkv, gT, dh]
  // A contiguous copy: read through the transpose view, the output projection's matmul loses its
  // SIMD tiling (engine/contiguous.ts).
  return contiguous(heads.reshape([B, H, T, dh]).transpose([0, 2, 1, 3]).reshape([B, T, H * dh])); // [B, T, H·dh]
}
