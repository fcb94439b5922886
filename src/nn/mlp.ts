// A small multilayer perceptron: linear layers at paths `layers.0`, `layers.1`, … with an activation
// between them (none after the last). Used by the README example and tests; models that need other
// names build on nn/linear directly.
import type { Params } from "../core/tree.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import type { Tensor } from "../engine/index.ts";
import { relu, tanh, gelu } from "./activation.ts";
import { at, type Ctx } from "./context.ts";
import * as linear from "./linear.ts";

export type Activation = "relu" | "tanh" | "gelu" | "identity";

export interface MlpConfig {
  /** Layer widths from input to output, e.g. [in, hidden, out] gives two linear layers. */
  sizes: readonly number[];
  activation?: Activation;
  bias?: boolean;
}

export interface MlpParams extends Params {
  layers: { [index: string]: linear.LinearParams };
}

/** Layer i gets the key fold(key, "layers.i"). */
export function init(key: Key, cfg: MlpConfig): MlpParams {
  if (cfg.sizes.length < 2) throw new Error(`an MLP needs at least two sizes (in, out), got [${cfg.sizes.join(", ")}]`);
  const layers: { [index: string]: linear.LinearParams } = {};
  for (let i = 0; i + 1 < cfg.sizes.length; i++) {
    layers[String(i)] = linear.init(prng.fold(key, `layers.${i}`), cfg.sizes[i] as number, cfg.sizes[i + 1] as number, {
      bias: cfg.bias ?? true,
    });
  }
  return { layers };
}

function activate(kind: Activation, x: Tensor): Tensor {
  switch (kind) {
    // nn/activation.ts: jax-js's values, with a backward jit keeps out of the next matmul's loop
    case "relu":
      return relu(x);
    case "tanh":
      return tanh(x);
    case "gelu":
      return gelu(x);
    case "identity":
      return x;
    default: {
      const never: never = kind;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}

/** x [..., sizes[0]] → [..., sizes.at(-1)]. Consumes `p` and `x`. */
export function apply(p: Params, x: Tensor, ctx?: Ctx, activation: Activation = "relu"): Tensor {
  const layers = p["layers"];
  if (layers === undefined || !("0" in layers))
    throw new Error('MLP params need a "layers" subtree with layers "0", "1", …');
  const n = Object.keys(layers).length;
  let h = x;
  for (let i = 0; i < n; i++) {
    const name = `layers.${i}`;
    const layer = linear.asLinear((layers)[String(i)], name);
    h = linear.apply(layer, h, at(ctx, name));
    if (i + 1 < n) h = activate(activation, h);
  }
  return h;
}
