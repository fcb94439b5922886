// Merging folds the adapter into the base weight for inference: W ← W* + s·B·A
// (PEFT src/peft/tuners/lora/layer.py `Linear.merge` / `get_delta_weight`). A merged tree carries no
// lora_A/lora_B, so every forward pass (with or without a LoRA context) uses W alone; the factors are
// returned beside it, and `unmerge` subtracts the same ΔW and puts them back.
import { getPath, isTensor, partition, combine, setPath, pathsWithChild, type Params } from "../core/tree.ts";
import { np, type Tensor } from "../engine/index.ts";
import { hasLora } from "./linear.ts";

/** True for the leaf paths of LoRA factors (`….lora_A.weight`, `….lora_B.weight`). */
export function isLoraPath(path: string): boolean {
  return /(^|\.)lora_[AB]\./.test(path);
}

/** ΔW = s·B·A [out, in] of one LoRA module. Borrows the module; returns an owned tensor. */
export function deltaWeight(module: Params, s: number): Tensor {
  if (!hasLora(module)) throw new Error("deltaWeight(): the module has no lora_A/lora_B factors");
  const ba = np.matmul(module.lora_B.weight.ref, module.lora_A.weight.ref); // [out,r]·[r,in] = [out,in]
  return np.multiply(ba, s);
}

/** Module paths that carry LoRA factors, e.g. "layers.0" (the root module is ""). Borrows. */
export function loraModulePaths(params: Params): string[] {
  return pathsWithChild(params, "lora_A");
}

export interface Merged {
  /** The model with W = W* + s·B·A and no factors. */
  params: Params;
  /** The lora_A/lora_B leaves, at their original paths (for `unmerge` or saving). */
  adapter: Params;
}

function addDelta(params: Params, adapter: Params, s: number, sign: 1 | -1): Params {
  let out = params;
  for (const path of loraModulePaths(adapter)) {
    const mod = path === "" ? adapter : getPath(adapter, path);
    const target = path === "" ? out : getPath(out, path);
    if (mod === undefined || isTensor(mod) || target === undefined || isTensor(target) || !isTensor(target["weight"])) {
      throw new Error(`no base weight for the LoRA module at "${path}"`);
    }
    const w = target["weight"];
    const dw = deltaWeight(mod, s);
    const next = sign === 1 ? np.add(w, dw) : np.subtract(w, dw);
    out = setPath(out, path === "" ? "weight" : `${path}.weight`, next);
  }
  return out;
}

/** Fold every adapter into its base weight. Consumes `params`. */
export function merge(params: Params, s: number): Merged {
  const [adapter, model] = partition(params, isLoraPath);
  return { params: addDelta(model, adapter, s, 1), adapter };
}

/** Undo `merge`: W ← W − s·B·A and the factors back in the tree. Consumes both arguments. */
export function unmerge(merged: Merged, s: number): Params {
  const base = addDelta(merged.params, merged.adapter, s, -1);
  return combine(base, merged.adapter);
}
