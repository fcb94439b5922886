// The call context threaded through a model's forward pass: the current module path and an optional
// hook that replaces the plain linear map. This is how an adapter reaches every linear layer of a
// model without the model knowing about it: lora/linear.ts builds a context whose `linear` hook runs
// `x·W*ᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ` for modules that carry lora_A/lora_B, and the plain map for the
// rest. nn itself knows nothing of LoRA math (layering: nn comes before lora).
//
// Models pass the context down with `at(ctx, "fc1")`, so each linear layer learns its own PEFT path
// (`layers.0.fc1`), which names its dropout stream and its instrumentation records.
import type { Params } from "../core/tree.ts";
import type { Tensor } from "../engine/index.ts";

/** Computes a linear module's output; consumes `p` and `x`, returns an owned tensor. */
export type LinearHook = (p: Params, x: Tensor, path: string) => Tensor;

export interface Ctx {
  /** Dotted module path of the current scope ("" at the root). */
  readonly path: string;
  /** Replaces the plain linear map when present (installed by `lora.context`). */
  readonly linear?: LinearHook;
}

/** The context of the child module `name` (a dotted name such as "layers.0" is allowed). */
export function at(ctx: Ctx | undefined, name: string): Ctx | undefined {
  if (ctx === undefined) return undefined;
  return { ...ctx, path: ctx.path === "" ? name : `${ctx.path}.${name}` };
}
