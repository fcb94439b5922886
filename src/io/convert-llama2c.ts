// A llama2.c checkpoint + tokenizer as a Hugging Face Llama model: in memory (what `--model stories260K`
// uses, nothing written) or as a folder that transformers' AutoModelForCausalLM / AutoTokenizer load
// (config.json, model.safetensors in F32, tokenizer.json, tokenizer_config.json, generation_config.json).
// The folder is written whole or not at all: files go into a temporary sibling folder that is renamed
// to the target at the end.
import { readFile } from "node:fs/promises";
import { UserError } from "../core/errors.ts";
import { writeFolderAtomic } from "./atomic.ts";
import type { HostF32 } from "../models/lm-tensors.ts";
import { tokenizerFromJson, type TextTokenizer } from "../models/tokenizer.ts";
import { readLlama2cCheckpoint, type LlamaConfigJson } from "./llama2c.ts";
import { llama2cTokenizerConfig, llama2cTokenizerJson, readLlama2cTokenizer, type TokenizerJson } from "./llama2c-tokenizer.ts";
import { encodeSafetensors } from "./safetensors.ts";

export interface HfLlamaModel {
  readonly config: LlamaConfigJson;
  /** HF parameter name → float32 tensor, [out, in] layout, q/k rows in HF's rotate-half order. */
  readonly tensors: ReadonlyMap<string, HostF32>;
  readonly tokenizerJson: TokenizerJson;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly generationConfig: Record<string, unknown>;
  /** The tokenizer built from tokenizerJson/tokenizerConfig. */
  readonly tokenizer: TextTokenizer;
}

/** Convert llama2.c bytes; the names are for error messages. */
export function convertLlama2c(
  checkpoint: Uint8Array,
  tokenizer: Uint8Array,
  names: { readonly checkpoint: string; readonly tokenizer: string },
): HfLlamaModel {
  const model = readLlama2cCheckpoint(checkpoint, names.checkpoint);
  const tok = readLlama2cTokenizer(tokenizer, names.tokenizer, model.config.vocab_size);
  const tokenizerJson = llama2cTokenizerJson(tok);
  const tokenizerConfig = llama2cTokenizerConfig(model.config.max_position_embeddings);
  return {
    config: model.config,
    tensors: model.tensors,
    tokenizerJson,
    tokenizerConfig,
    generationConfig: { bos_token_id: model.config.bos_token_id, eos_token_id: model.config.eos_token_id },
    tokenizer: tokenizerFromJson(tokenizerJson, tokenizerConfig, names.tokenizer),
  };
}

async function readInput(file: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `the ${what} ${file} does not exist` : `cannot read the ${what} ${file} (${code ?? String(err)})`);
  }
}

/** Read and convert llama2.c files from disk. */
export async function loadLlama2c(checkpointFile: string, tokenizerFile: string): Promise<HfLlamaModel> {
  const [ckpt, tok] = await Promise.all([readInput(checkpointFile, "checkpoint"), readInput(tokenizerFile, "tokenizer")]);
  return convertLlama2c(ckpt, tok, { checkpoint: checkpointFile, tokenizer: tokenizerFile });
}

/** The files of an HF model folder, name → bytes. */
export function hfFolderFiles(model: HfLlamaModel): Map<string, Uint8Array | string> {
  const json = (x: unknown): string => JSON.stringify(x, null, 2) + "\n";
  return new Map<string, Uint8Array | string>([
    ["config.json", json(model.config)],
    ["generation_config.json", json(model.generationConfig)],
    ["model.safetensors", encodeSafetensors(model.tensors, { dtype: "F32", metadata: { format: "pt" } })],
    ["tokenizer.json", json(model.tokenizerJson)],
    ["tokenizer_config.json", json(model.tokenizerConfig)],
  ]);
}

/** Write the converted model as an HF folder at `out` (new or empty). */
export async function writeHfLlama(out: string, model: HfLlamaModel): Promise<void> {
  await writeFolderAtomic(out, hfFolderFiles(model));
}
