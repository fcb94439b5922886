// The LoRA linear map (Hu et al. 2021; PEFT src/peft/tuners/lora/layer.py `Linear.forward`):
//
//   y = x·W*ᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ        A = lora_A.weight [r, in], B = lora_B.weight [out, r]
//
// B·A is never materialized: two thin matmuls cost O(r·(in + out)) per row instead of O(in·out).
//
// How LoRA reaches a model: models call `nn/linear.apply(p, x, at(ctx, "fc1"))`. `context()` below
// returns the `Ctx` whose `linear` hook runs this map on every module that carries `lora_A`/`lora_B`
// and the plain `x·Wᵀ + b` elsewhere (frozen layers, merged modules). So any model written with
// nn/linear gets LoRA by injection (lora/inject.ts) plus this context, with no change to its code.
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { isTensor, type Params } from "../core/tree.ts";
import { np, random, type Tensor } from "../engine/index.ts";
import type { Ctx } from "../nn/context.ts";
import * as dropout from "../nn/dropout.ts";
import { base } from "../nn/linear.ts";

export interface LoraLinearParams extends Params {
  weight: Tensor;
  bias?: Tensor;
  lora_A: { weight: Tensor };
  lora_B: { weight: Tensor };
}

/**
 * Instrumentation hook: called with Z_A = dropout(x)·Aᵀ [..., r] and Z_B = Z_A·Bᵀ [..., out]
 * (before the scaling s; the output adds s·Z_B) for each LoRA module. It receives an owned reference
 * and must keep or dispose it. Inside `grad`/`jit` it would see tracers: tap eager forward passes.
 */
export type Tap = (path: string, name: "Z_A" | "Z_B", t: Tensor) => void;

export interface LoraContextOptions {
  /** s = lora_alpha / r (or / √r with rsLoRA): `scaling(config)` from lora/config.ts. */
  scaling: number;
  /** Dropout on the adapter's input (lora_dropout); 0 or absent is the identity. */
  dropout?: number;
  /** Key for the dropout masks, one stream per module: fold(key, path). Needed when dropout > 0. */
  key?: Key;
  /**
   * Device keys of the dropout masks, one per module path (owned; each used once per forward). A
   * host mask would be frozen into a `jit` trace, so a jitted training step takes these keys as
   * arguments and draws its masks on the device; preferred over `key` when given.
   */
  deviceKeys?: (path: string) => Tensor | undefined;
  tap?: Tap;
}

/** Does this module subtree carry LoRA factors? Borrows; works on tracers too. */
export function hasLora(p: Params): p is LoraLinearParams {
  const a = p["lora_A"];
  const b = p["lora_B"];
  return (
    a !== undefined && b !== undefined && !isTensor(a) && !isTensor(b) && isTensor(a["weight"]) && isTensor(b["weight"])
  );
}

/** y = x·W*ᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ. Consumes `p` and `x`. */
export function loraLinear(p: LoraLinearParams, x: Tensor, opts: LoraContextOptions, path = ""): Tensor {
  const { lora_A, lora_B, ...rest } = p;
  const y = base(rest, x.ref, path); // [..., out]
  const rate = opts.dropout ?? 0;
  let xd = x;
  const deviceKey = rate > 0 ? opts.deviceKeys?.(path) : undefined;
  if (deviceKey !== undefined) {
    const keep = random.bernoulli(deviceKey, 1 - rate, [...x.shape]).astype(np.float32); // [..., in]
    xd = np.multiply(x, keep.mul(1 / (1 - rate)));
  } else if (rate > 0) {
    if (opts.key === undefined) throw new Error("lora dropout > 0 needs a key in the LoRA context");
    xd = dropout.apply(prng.fold(opts.key, path), x, rate);
  }
  const zA = np.matmul(xd, lora_A.weight.transpose()); // [..., in]·[in, r] = [..., r]
  if (opts.tap !== undefined) opts.tap(path, "Z_A", zA.ref);
  const zB = np.matmul(zA, lora_B.weight.transpose()); // [..., r]·[r, out] = [..., out]
  if (opts.tap !== undefined) opts.tap(path, "Z_B", zB.ref);
  return np.add(y, np.multiply(zB, opts.scaling));
}

/** The root context that runs LoRA on every module carrying factors; plain linear elsewhere. */
export function context(opts: LoraContextOptions): Ctx {
  if (!Number.isFinite(opts.scaling)) throw new Error(`LoRA scaling must be a finite number, got ${opts.scaling}`);
  return {
    path: "",
    linear: (p, x, path) => (hasLora(p) ? loraLinear(p, x, opts, path) : base(p, x, path)),
  };
}
