// What `--model` names for every language-model command (finetune, evaluate, sweep, generate, merge),
// resolved in this one place: the bundled stories260K (converted in memory from assets/stories260K,
// nothing written), a Hugging Face model folder (config.json + safetensors weights + tokenizer.json),
// or a folder `lorascope convert` made from a llama2.c checkpoint (which is a Hugging Face folder).
// The caller gets the parsed config, the params at Hugging Face's module paths, the tokenizer when
// there is one, and what a derived folder copies. A PEFT adapter goes onto those params here too:
// unmerged (its factors beside the base weights, for a LoRA context) or folded in (W + s·B·A, for
// decoding and for writing a merged folder). The adapter's fit is checked first, so one made for
// another model is one sentence, not a failure deep inside a forward pass.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { getPath, isTensor, setPath, type Params } from "../core/tree.ts";
import { disposeTree, initEngine, tensor, type Tensor } from "../engine/index.ts";
import { scaling } from "../lora/config.ts";
import { merge } from "../lora/merge.ts";
import { lmFromTensors, lmToTensors, maxPositions, parseLmConfig, type LmConfig } from "../models/lm.ts";
import { loadTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type TextTokenizer } from "../models/tokenizer.ts";
import { writeFolderAtomic } from "./atomic.ts";
import { hfFolderFiles } from "./convert-llama2c.ts";
import { CONFIG_FILE, loadCausalLM, openHfCheckpoint, WEIGHTS_FILE } from "./hf-checkpoint.ts";
import { checkLmPath } from "./lm-path.ts";
import type { LoadedAdapter } from "./peft.ts";
import { encodeSafetensors } from "./safetensors.ts";
import { loadStories260K, STORIES260K, STORIES260K_FILES } from "./stories260k.ts";

export { checkLmPath };

/** A model's tokenizer without its weights (what tokenizing a corpus once needs). */
export interface LmTokenizerInfo {
  /** What --model said: "stories260K" or the folder. */
  readonly name: string;
  readonly vocabSize: number;
  /** The tokenizer; undefined when the folder has none (then only pre-tokenized data works). */
  readonly tokenizer: TextTokenizer | undefined;
  /** SHA-256 of the tokenizer's files: token ids cached under it are this tokenizer's. */
  readonly tokenizerKey: string | undefined;
}

export interface LoadedLm extends LmTokenizerInfo {
  readonly config: LmConfig;
  /** Owned device params at Hugging Face's module paths. */
  readonly params: Params;
  /** The checkpoint's tensor names (GPT-2 files with and without the "transformer." prefix differ). */
  readonly keys: readonly string[];
  /** The model's files other than its weights, name → contents (what a merged folder copies). */
  companionFiles(): Promise<Map<string, Uint8Array | string>>;
}

/** Is `model` the bundled model's name rather than a folder? */
export const isBundledLm = (model: string): boolean => model === STORIES260K;

/** Weight files a derived folder replaces: safetensors files and their index, PyTorch pickles. */
function isWeightFile(name: string): boolean {
  return /\.safetensors$|\.safetensors\.index\.json$|^pytorch_model.*\.bin$|\.bin\.index\.json$/.test(name);
}

/** A folder's tokenizer and its key; both undefined without tokenizer.json. */
async function folderTokenizer(model: string): Promise<Pick<LmTokenizerInfo, "tokenizer" | "tokenizerKey">> {
  const json = await readFile(path.join(model, TOKENIZER_FILE)).catch(() => undefined);
  if (json === undefined) return { tokenizer: undefined, tokenizerKey: undefined };
  const config = await readFile(path.join(model, TOKENIZER_CONFIG_FILE)).catch(() => new Uint8Array());
  const tokenizerKey = createHash("sha256").update(json).update("\0").update(config).digest("hex");
  return { tokenizer: await loadTokenizer(model), tokenizerKey };
}

/** The tokenizer of what `model` names, without loading its weights or the engine. */
export async function loadLmTokenizer(model: string): Promise<LmTokenizerInfo> {
  checkLmPath(model);
  if (isBundledLm(model)) {
    const hf = loadStories260K();
    const config = parseLmConfig(hf.config, `${STORIES260K} config.json`);
    const tokenizerKey = STORIES260K_FILES.tokenizer.sha256;
    return { name: model, vocabSize: config.vocabSize, tokenizer: hf.tokenizer, tokenizerKey };
  }
  const config = parseLmConfig(JSON.parse(await readFile(path.join(model, CONFIG_FILE), "utf8")) as unknown, path.join(model, CONFIG_FILE));
  return { name: model, vocabSize: config.vocabSize, ...(await folderTokenizer(model)) };
}

/** Load what `model` names onto the engine. */
export async function loadLm(model: string): Promise<LoadedLm> {
  checkLmPath(model);
  await initEngine();
  if (isBundledLm(model)) {
    const hf = loadStories260K();
    const config = parseLmConfig(hf.config, `${STORIES260K} config.json`);
    return {
      name: model,
      config,
      vocabSize: config.vocabSize,
      params: lmFromTensors(hf.tensors, config, STORIES260K),
      keys: [...hf.tensors.keys()],
      tokenizer: hf.tokenizer,
      tokenizerKey: STORIES260K_FILES.tokenizer.sha256,
      companionFiles: () => {
        const files = hfFolderFiles(hf);
        files.delete(WEIGHTS_FILE);
        return Promise.resolve(files);
      },
    };
  }
  const { config, params } = await loadCausalLM(model);
  const ckpt = await openHfCheckpoint(model);
  const keys = [...ckpt.shapes.keys()];
  await ckpt.close();
  return {
    name: model,
    config,
    vocabSize: config.vocabSize,
    params,
    keys,
    ...(await folderTokenizer(model)),
    async companionFiles() {
      const files = new Map<string, Uint8Array | string>();
      for (const e of await readdir(model, { withFileTypes: true })) {
        if (e.isFile() && !isWeightFile(e.name)) files.set(e.name, await readFile(path.join(model, e.name)));
      }
      return files;
    },
  };
}

/** The tokenizer of a loaded model, or one sentence saying the folder has none. */
export function requireTokenizer(lm: LmTokenizerInfo, why: string): TextTokenizer {
  if (lm.tokenizer === undefined) throw new UserError(`${lm.name} has no ${TOKENIZER_FILE}, which ${why} needs; add the model's ${TOKENIZER_FILE}`);
  return lm.tokenizer;
}

/**
 * The model's positions from its config.json alone (no weights read), so that a too long --seq-len is
 * refused before anything runs; undefined when config.json cannot be read or parsed (loading the
 * model then says what is wrong with it).
 */
export async function lmPositionsOf(model: string): Promise<number | undefined> {
  try {
    const json = isBundledLm(model) ? loadStories260K().config : (JSON.parse(await readFile(path.join(model, CONFIG_FILE), "utf8")) as unknown);
    return maxPositions(parseLmConfig(json));
  } catch {
    return undefined;
  }
}

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
export async function writeMergedFolder(out: string, source: LoadedLm, params: Params): Promise<void> {
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
