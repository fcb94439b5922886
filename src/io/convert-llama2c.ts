// A llama2.c checkpoint + tokenizer as a Hugging Face Llama model: in memory (what `--model stories260K`
// uses, nothing written) or as a folder that transformers' AutoModelForCausalLM / AutoTokenizer load
// (config.json, model.safetensors in F32, tokenizer.json, tokenizer_config.json, generation_config.json).
// The folder is written whole or not at all: files go into a temporary sibling folder that is renamed
// to the target at the end. `convertLlama2cFiles` reads the checkpoint by offset, one tensor at a time,
// and streams each into model.safetensors, so memory follows the largest tensor, not the file.
import { readFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { buildFolderAtomic, writeFilesFlushed, writeFolderAtomic } from "./atomic.ts";
import type { HostF32 } from "../models/lm-tensors.ts";
import { tokenizerFromJson, type TextTokenizer } from "../models/tokenizer.ts";
import {
  LLAMA2C_HEADER_BYTES,
  llama2cSlotData,
  llama2cSlots,
  llamaConfigFromHeader,
  readLlama2cCheckpoint,
  readLlama2cHeader,
  slotCount,
  type LlamaConfigJson,
} from "./llama2c.ts";
import { llama2cTokenizerConfig, llama2cTokenizerJson, readLlama2cTokenizer, type TokenizerJson } from "./llama2c-tokenizer.ts";
import { encodeSafetensors } from "./safetensors.ts";
import { writeSafetensorsByTensor } from "./safetensors-file.ts";
import { openSized, readExactly } from "./positioned.ts";

const WEIGHTS = "model.safetensors";
const WEIGHTS_OPTIONS = { dtype: "F32", metadata: { format: "pt" } } as const;

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

function cannotRead(err: unknown, file: string, what: string): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UserError(code === "ENOENT" ? `the ${what} ${file} does not exist` : `cannot read the ${what} ${file} (${code ?? String(err)})`);
}

async function readInput(file: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw cannotRead(err, file, what);
  }
}

/** Fill `into` from byte `position` of the open checkpoint, or say that the file shrank while read. */
function readAt(fh: FileHandle, file: string, into: Uint8Array, position: number): Promise<void> {
  return readExactly(fh, into, position, (at) => new UserError(`the checkpoint ${file} ended at byte ${at} while it was read (changed on disk?)`));
}

/** Read and convert llama2.c files from disk. */
export async function loadLlama2c(checkpointFile: string, tokenizerFile: string): Promise<HfLlamaModel> {
  const [ckpt, tok] = await Promise.all([readInput(checkpointFile, "checkpoint"), readInput(tokenizerFile, "tokenizer")]);
  return convertLlama2c(ckpt, tok, { checkpoint: checkpointFile, tokenizer: tokenizerFile });
}

/** The files of an HF model folder other than its weights, name → text. */
function hfTextFiles(model: Omit<HfLlamaModel, "tensors" | "tokenizer">): Map<string, string> {
  const json = (x: unknown): string => JSON.stringify(x, null, 2) + "\n";
  return new Map([
    ["config.json", json(model.config)],
    ["generation_config.json", json(model.generationConfig)],
    ["tokenizer.json", json(model.tokenizerJson)],
    ["tokenizer_config.json", json(model.tokenizerConfig)],
  ]);
}

/** The files of an HF model folder, name → bytes. */
export function hfFolderFiles(model: HfLlamaModel): Map<string, Uint8Array | string> {
  const files = new Map<string, Uint8Array | string>(hfTextFiles(model));
  files.set(WEIGHTS, encodeSafetensors(model.tensors, WEIGHTS_OPTIONS));
  return files;
}

/**
 * Convert llama2.c files on disk to an HF folder at `out` (new or empty; all or nothing), reading the
 * checkpoint by offset: its size is checked against the header first (a truncated file is one sentence
 * with the expected and actual sizes), then each tensor is read, reordered and written in turn.
 */
export async function convertLlama2cFiles(
  checkpointFile: string,
  tokenizerFile: string,
  out: string,
): Promise<{ config: LlamaConfigJson; tensors: number }> {
  const tokBytes = await readInput(tokenizerFile, "tokenizer");
  const { fh, size } = await openSized(checkpointFile, (err) => cannotRead(err, checkpointFile, "checkpoint"));
  try {
    const head = new Uint8Array(Math.min(LLAMA2C_HEADER_BYTES, size));
    await readAt(fh, checkpointFile, head, 0);
    const h = readLlama2cHeader(head, checkpointFile, size);
    const config = llamaConfigFromHeader(h);
    const tok = readLlama2cTokenizer(tokBytes, tokenizerFile, config.vocab_size);
    const tokenizerJson = llama2cTokenizerJson(tok);
    const tokenizerConfig = llama2cTokenizerConfig(config.max_position_embeddings);
    tokenizerFromJson(tokenizerJson, tokenizerConfig, tokenizerFile); // refuses a tokenizer the library cannot run
    const generationConfig = { bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id };
    const slots = new Map(llama2cSlots(h).map((slot) => [slot.name, slot] as const));
    await buildFolderAtomic(out, async (tmp) => {
      await writeFilesFlushed(tmp, hfTextFiles({ config, generationConfig, tokenizerJson, tokenizerConfig }));
      await writeSafetensorsByTensor(path.join(tmp, WEIGHTS), [...slots.values()], async (name) => {
        const slot = slots.get(name);
        if (slot === undefined) throw new Error(`no llama2.c slot for ${name}`);
        const raw = new Float32Array(slotCount(slot)); // little-endian as llama2.c writes, read straight into place
        await readAt(fh, checkpointFile, new Uint8Array(raw.buffer), LLAMA2C_HEADER_BYTES + 4 * slot.offset);
        return llama2cSlotData(slot, h, raw);
      }, WEIGHTS_OPTIONS);
    });
    return { config, tensors: slots.size };
  } finally {
    await fh.close();
  }
}

/** Write the converted model as an HF folder at `out` (new or empty). */
export async function writeHfLlama(out: string, model: HfLlamaModel): Promise<void> {
  await writeFolderAtomic(out, hfFolderFiles(model));
}
