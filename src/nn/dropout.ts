// Inverted dropout with an explicit key: keep each entry with probability 1 − rate and scale the
// kept ones by 1/(1 − rate), so E[dropout(x)] = x (PyTorch nn.Dropout in training mode).
// The mask is drawn on the host from a prng key, so runs are reproducible on any backend. Inside a
// `jit`-compiled function a host mask would be frozen at trace time: pass masks in as arguments there.
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { np, tensor, type Tensor, type Shape } from "../engine/index.ts";

/** The scaled keep-mask (values 0 or 1/(1−rate)) for a tensor of `shape`; owned. */
export function mask(key: Key, shape: Shape, rate: number): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  const m = prng.bernoulli(key, shape, 1 - rate);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < m.length; i++) m[i] = (m[i] as number) * scale;
  return tensor(m, shape);
}

/** dropout(x) with a mask drawn from `key`; identity when rate is 0. Consumes x. */
export function apply(key: Key, x: Tensor, rate: number): Tensor {
  if (rate === 0) return x;
  return np.multiply(x, mask(key, x.shape, rate));
}
