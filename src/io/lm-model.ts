// What `--model` names for a language-model command, resolved once for all of them: the bundled
// stories260K (converted in memory from assets/stories260K, nothing written) or a Hugging Face model
// folder (config.json + safetensors weights + tokenizer.json). Either way the caller gets the
// parsed config, the params at Hugging Face's module paths and the tokenizer when there is one.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import type { Params } from "../core/tree.ts";
import { initEngine } from "../engine/index.ts";
import { lmFromTensors, maxPositions, parseLmConfig, type LmConfig } from "../models/lm.ts";
import { loadTokenizer, TOKENIZER_FILE, type TextTokenizer } from "../models/tokenizer.ts";
import { CONFIG_FILE, loadCausalLM } from "./hf-checkpoint.ts";
import { loadStories260K, STORIES260K } from "./stories260k.ts";

export interface LoadedLm {
  /** What --model said: "stories260K" or the folder. */
  readonly name: string;
  readonly config: LmConfig;
  /** Owned device params at Hugging Face's module paths. */
  readonly params: Params;
  /** The folder's tokenizer.json; undefined when the folder has none (then only pre-tokenized data works). */
  readonly tokenizer: TextTokenizer | undefined;
}

/** Is `model` the bundled model's name rather than a folder? */
export const isBundledLm = (model: string): boolean => model === STORIES260K;

/** Check, without reading the weights, that `model` names the bundled model or an existing folder. */
export async function checkLmName(model: string): Promise<void> {
  if (isBundledLm(model)) return;
  const s = await stat(model).catch(() => undefined);
  if (s === undefined) {
    throw new UserError(`--model ${model} is neither "${STORIES260K}" (the bundled model) nor an existing Hugging Face model folder`);
  }
  if (!s.isDirectory()) throw new UserError(`--model ${model} is a file; give a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)`);
}

/** Load what `model` names onto the engine. */
export async function loadLm(model: string): Promise<LoadedLm> {
  await initEngine();
  if (isBundledLm(model)) {
    const hf = loadStories260K();
    const config = parseLmConfig(hf.config, `${STORIES260K} config.json`);
    return { name: model, config, params: lmFromTensors(hf.tensors, config, STORIES260K), tokenizer: hf.tokenizer };
  }
  await checkLmName(model);
  const { config, params } = await loadCausalLM(model);
  const hasTokenizer = await stat(path.join(model, TOKENIZER_FILE)).then((s) => s.isFile(), () => false);
  return { name: model, config, params, tokenizer: hasTokenizer ? await loadTokenizer(model) : undefined };
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
