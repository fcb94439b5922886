// A PEFT adapter on a causal LM: its factors put beside the base weights at the module paths its keys
// name (unmerged, for a LoRA context), or folded in (W + s·B·A, for decoding and for writing a merged
// folder). The fit is checked first, so an adapter made for another model is one sentence, not a
// failure deep inside a forward pass.
import { UserError } from "../core/errors.ts";
import { getPath, isTensor, setPath, type Params } from "../core/tree.ts";
import { disposeTree, tensor, type Tensor } from "../engine/index.ts";
import { scaling } from "../lora/config.ts";
import { merge } from "../lora/merge.ts";
import { encodeSafetensors } from "./safetensors.ts";
import { writeFolderAtomic } from "./atomic.ts";
import { CONFIG_FILE, WEIGHTS_FILE } from "./hf-checkpoint.ts";
import type { LmSource } from "./lm-source.ts";
import { lmToTensors } from "../models/lm.ts";
import type { LoadedAdapter } from "./peft.ts";

const fmt = (s: readonly number[]): string => `[${s.join(", ")}]`;

/** The first way the adapter does not fit `params` (a module it names is missing or has another shape). */
function misfit(params: Params, adapter: LoadedAdapter): string | undefined {
  for (const [m, { A, B }] of adapter.modules) {
    const w = getPath(params, `${m}.weight`);
    if (w === undefined || !isTensor(w)) return `it adapts "${m}", which the model does not have`;
    const want = [B.shape[0] as number, A.shape[1] as number];
    if (w.ndim !== 2 || w.shape[0] !== want[0] || w.shape[1] !== want[1]) {
      return `its factors for "${m}" make a ${fmt(want)} update but the model's weight there is ${fmt(w.shape)}`;
    }
  }
  for (const [leaf, t] of adapter.saved) {
    const w = getPath(params, leaf);
    if (w === undefined || !isTensor(w)) return `it saves "${leaf}", which the model does not have`;
    if (fmt(w.shape) !== fmt(t.shape)) return `it saves "${leaf}" as ${fmt(t.shape)} but the model's tensor is ${fmt(w.shape)}`;
  }
  return undefined;
}

/**
 * The adapter's lora_A/lora_B beside the base weights and its saved modules in place of the model's.
 * Consumes `params`; the adapter must fit (else a UserError naming `adapterDir` and `modelName`, and
 * nothing is consumed).
 */
export function withAdapter(params: Params, adapter: LoadedAdapter, adapterDir: string, modelName: string): Params {
  const problem = misfit(params, adapter);
  if (problem !== undefined) {
    throw new UserError(`the adapter in ${adapterDir} was not made for ${modelName}: ${problem}`);
  }
  let out = params;
  for (const [m, { A, B }] of adapter.modules) {
    out = setPath(out, `${m}.lora_A.weight`, tensor(A.data, A.shape));
    out = setPath(out, `${m}.lora_B.weight`, tensor(B.data, B.shape));
  }
  for (const [leaf, t] of adapter.saved) {
    (getPath(out, leaf) as Tensor).dispose();
    out = setPath(out, leaf, tensor(t.data, t.shape));
  }
  return out;
}

/** Base weights with the adapter folded in, W + s·B·A, and no factors. Consumes `params`. */
export function mergedWeights(params: Params, adapter: LoadedAdapter, adapterDir: string, modelName: string): Params {
  const merged = merge(withAdapter(params, adapter, adapterDir, modelName), scaling(adapter.config));
  disposeTree(merged.adapter);
  return merged.params;
}

/**
 * Write `params` (merged weights of `source`'s architecture) as a Hugging Face folder at `out`: the
 * source's files except its weights, and model.safetensors in F32 with the source's tensor names and
 * layouts (GPT-2's Conv1D weights back to [in, out]). All or nothing; `out` must be new or empty.
 * Borrows `params`.
 */
export async function writeMergedFolder(out: string, source: LmSource, params: Params): Promise<void> {
  const tensors = await lmToTensors(params, source.config, source.keys);
  const files = await source.companionFiles();
  const config = files.get(CONFIG_FILE);
  if (config !== undefined) files.set(CONFIG_FILE, float32Config(config));
  files.set(WEIGHTS_FILE, encodeSafetensors(tensors, { dtype: "F32", metadata: { format: "pt" } }));
  await writeFolderAtomic(out, files);
}

/**
 * config.json with its dtype field ("torch_dtype", transformers 5's "dtype") saying float32, as the
 * written weights are: transformers loads with the config's dtype, so a BF16 source's field would
 * otherwise round the merged weights back down.
 */
function float32Config(contents: Uint8Array | string): string {
  const text = typeof contents === "string" ? contents : new TextDecoder().decode(contents);
  const json = JSON.parse(text) as Record<string, unknown>;
  for (const field of ["torch_dtype", "dtype"]) if (field in json) json[field] = "float32";
  return JSON.stringify(json, null, 2) + "\n";
}
