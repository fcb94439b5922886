// `--model DIR|stories260K`: a causal LM with its tokenizer, from a Hugging Face folder or the bundled
// stories260K (converted in memory), plus what a derived folder (merged weights) copies from it:
// every file except the weights — config.json, generation_config.json, the tokenizer's files.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Params } from "../core/tree.ts";
import { initEngine } from "../engine/index.ts";
import { lmFromTensors, parseLmConfig, type LmConfig } from "../models/lm.ts";
import { loadTokenizer, type TextTokenizer } from "../models/tokenizer.ts";
import { hfFolderFiles } from "./convert-llama2c.ts";
import { loadCausalLM, openHfCheckpoint, WEIGHTS_FILE } from "./hf-checkpoint.ts";
import { STORIES260K, loadStories260K } from "./stories260k.ts";

export interface LmSource {
  /** "stories260K" or the folder as given. */
  readonly name: string;
  readonly config: LmConfig;
  /** Owned device params at Hugging Face's module paths. */
  readonly params: Params;
  /** The checkpoint's tensor names (GPT-2 files with and without the "transformer." prefix differ). */
  readonly keys: readonly string[];
  tokenizer(): Promise<TextTokenizer>;
  /** The source's files other than its weights, name → contents. */
  companionFiles(): Promise<Map<string, Uint8Array | string>>;
}

/** Weight files a derived folder replaces: safetensors files and their index, PyTorch pickles. */
function isWeightFile(name: string): boolean {
  return /\.safetensors$|\.safetensors\.index\.json$|^pytorch_model.*\.bin$|\.bin\.index\.json$/.test(name);
}

/** Load `--model`: the word stories260K or a Hugging Face model folder. */
export async function loadLmSource(model: string): Promise<LmSource> {
  await initEngine();
  if (model === STORIES260K) {
    const hf = loadStories260K();
    const config = parseLmConfig(hf.config, `${STORIES260K} config`);
    return {
      name: STORIES260K,
      config,
      params: lmFromTensors(hf.tensors, config, STORIES260K),
      keys: [...hf.tensors.keys()],
      tokenizer: () => Promise.resolve(hf.tokenizer),
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
    params,
    keys,
    tokenizer: () => loadTokenizer(model),
    async companionFiles() {
      const files = new Map<string, Uint8Array | string>();
      for (const e of await readdir(model, { withFileTypes: true })) {
        if (e.isFile() && !isWeightFile(e.name)) files.set(e.name, await readFile(path.join(model, e.name)));
      }
      return files;
    },
  };
}
