// Token (or position) embedding as plain params + pure functions: weight [num, dim], row i is the
// vector of id i (PyTorch nn.Embedding). HF init: normal(0, initializer_range).
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { np, tensor, type Tensor } from "../engine/index.ts";

export interface EmbeddingParams {
  weight: Tensor;
  [k: string]: Tensor;
}

/** New [num, dim] table drawn from normal(0, std) with fold(key, "weight") (owned). */
export function init(key: Key, num: number, dim: number, std: number): EmbeddingParams {
  return { weight: tensor(prng.normal(prng.fold(key, "weight"), [num, dim], std), [num, dim]) };
}

/** Rows of `weight` for int32 `ids` of any shape: [...ids.shape, dim]. Consumes both. */
export function apply(weight: Tensor, ids: Tensor): Tensor {
  return np.take(weight, ids, 0);
}
