// Linear layer as plain params + pure functions: no hidden train/eval state.
// Params follow PyTorch/PEFT: weight [out, in], bias [out]; y = x·Wᵀ + b for x [..., in].
// Init is PyTorch's nn.Linear default (torch/nn/modules/linear.py `reset_parameters`):
// kaiming_uniform_(a=√5) → W ~ U(−1/√in, 1/√in), and b ~ U(−1/√in, 1/√in).
import { isTensor, type Params } from "../core/tree.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { np, tensor, type Tensor } from "../engine/index.ts";
import type { Ctx } from "./context.ts";

export interface LinearParams extends Params {
  weight: Tensor;
  bias?: Tensor;
}

export interface LinearInit {
  /** Add a bias vector (default true, like nn.Linear). */
  bias?: boolean;
}

/** New parameters for an in→out linear layer (owned). Weight from fold(key,"weight"), bias from fold(key,"bias"). */
export function init(key: Key, inFeatures: number, outFeatures: number, opts: LinearInit = {}): LinearParams {
  const bound = 1 / Math.sqrt(inFeatures);
  const weight = tensor(prng.uniform(prng.fold(key, "weight"), [outFeatures, inFeatures], -bound, bound), [
    outFeatures,
    inFeatures,
  ]);
  if (opts.bias === false) return { weight };
  const bias = tensor(prng.uniform(prng.fold(key, "bias"), [outFeatures], -bound, bound), [outFeatures]);
  return { weight, bias };
}

/** Narrow a subtree to linear params, or throw naming the path. Borrows. */
export function asLinear(p: Params | Tensor | undefined, path: string): LinearParams {
  if (p === undefined || isTensor(p) || !isTensor(p["weight"])) {
    throw new Error(`no linear module (a subtree with a weight tensor) at "${path}"`);
  }
  const bias = p["bias"];
  if (bias !== undefined && !isTensor(bias)) throw new Error(`"${path}.bias" is not a tensor`);
  return p as LinearParams;
}

/** The plain map x·Wᵀ + b, whatever else the module carries. Consumes weight, bias and x. */
export function base(p: Params, x: Tensor, path = ""): Tensor {
  const { weight, bias } = asLinear(p, path);
  const y = np.matmul(x, weight.transpose()); // [..., in]·[in, out] = [..., out]
  return bias === undefined ? y : np.add(y, bias); // bias [out] broadcasts over [..., out]
}

/**
 * y = x·Wᵀ + b, or the context's hook (LoRA) when one is installed. Consumes `p` and `x`.
 * A module that carries LoRA factors but is called without a hook throws rather than silently
 * ignoring its adapter (merge the adapter first to run the base map alone).
 */
export function apply(p: Params, x: Tensor, ctx?: Ctx): Tensor {
  const path = ctx?.path ?? "";
  if (ctx?.linear !== undefined) return ctx.linear(p, x, path);
  if (p["lora_A"] !== undefined) {
    throw new Error(
      `the linear module at "${path}" has LoRA factors; call it with a LoRA context (lora.context) or merge the adapter first`,
    );
  }
  return base(p, x, path);
}
