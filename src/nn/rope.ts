// Rotary position embedding (Su et al. 2021) in Hugging Face's rotate-half layout
// (transformers models/llama/modeling_llama.py `rotate_half`, `apply_rotary_pos_emb`): the head
// vector is split into halves x1 = x[:d/2], x2 = x[d/2:], and pair (x1ᵢ, x2ᵢ) is rotated by angle
// pos·θ^(−2i/d). (llama2.c and Meta's original code rotate interleaved pairs (x₂ᵢ, x₂ᵢ₊₁); their
// q/k weights are permuted on conversion so that this layout gives the same result.)
// The tables are computed on the host in float64 and rounded to float32 once.
import { np, tensor, type Tensor } from "../engine/index.ts";

export interface RopeTables {
  /** cos(pos·freqᵢ) [T, d/2] */
  cos: Tensor;
  /** sin(pos·freqᵢ) [T, d/2] */
  sin: Tensor;
}

/** Tables for positions offset, …, offset + count − 1 and head dim `dim` (even). Owned. */
export function tables(dim: number, theta: number, offset: number, count: number): RopeTables {
  const half = dim / 2;
  const cos = new Float32Array(count * half);
  const sin = new Float32Array(count * half);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (offset + t) * theta ** ((-2 * i) / dim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tensor(cos, [count, half]), sin: tensor(sin, [count, half]) };
}

/** Rotate x [B, H, T, d] by tables [T, d/2]. Consumes `x` and the tables. */
export function apply(x: Tensor, { cos, sin }: RopeTables): Tensor {
  const d = x.shape[3] as number;
  const half = d / 2;
  const x1 = x.ref.slice([], [], [], [0, half]); // [B, H, T, d/2]
  const x2 = x.slice([], [], [], [half, d]); // [B, H, T, d/2]
  const first = x1.ref.mul(cos.ref).sub(x2.ref.mul(sin.ref)); // x1·cos − x2·sin
  const second = x2.mul(cos).add(x1.mul(sin)); // x2·cos + x1·sin
  return np.concatenate([first, second], -1); // [B, H, T, d]
}
