// Normalization layers over the last axis, as plain functions of a params subtree.
//   RMSNorm   x·rsqrt(mean(x²) + eps)·weight            (HF LlamaRMSNorm; Zhang & Sennrich 2019)
//   LayerNorm (x − mean)·rsqrt(var + eps)·weight + bias  (PyTorch nn.LayerNorm, biased variance)
// rsqrt is written x^(−½) rather than 1/sqrt: eager grad through np.reciprocal leaks a buffer in
// jax-js 0.1.25 (docs/engine.md).
import { isTensor, type Params } from "../core/tree.ts";
import { np, type Tensor } from "../engine/index.ts";

function leaf(p: Params, name: string, path: string): Tensor {
  const t = p[name];
  if (t === undefined || !isTensor(t)) throw new Error(`no tensor "${name}" in the norm at "${path}"`);
  return t;
}

/** RMSNorm of x [..., d] with weight [d]. Consumes `p` and `x`. */
export function rmsNorm(p: Params, x: Tensor, eps: number, path = ""): Tensor {
  const ms = np.square(x.ref).mean(-1, { keepdims: true }); // [..., 1]
  return x.mul(np.power(ms.add(eps), -0.5)).mul(leaf(p, "weight", path)); // [..., d]
}

/** LayerNorm of x [..., d] with weight, bias [d]. Consumes `p` and `x`. */
export function layerNorm(p: Params, x: Tensor, eps: number, path = ""): Tensor {
  const mean = x.ref.mean(-1, { keepdims: true }); // [..., 1]
  const centered = x.sub(mean); // [..., d]
  const variance = np.square(centered.ref).mean(-1, { keepdims: true }); // [..., 1]
  return centered.mul(np.power(variance.add(eps), -0.5)).mul(leaf(p, "weight", path)).add(leaf(p, "bias", path));
}
