// stories260K (Andrej Karpathy, llama2.c / tinyllamas, MIT): the pretrained Llama-architecture model
// that ships in assets/stories260K/, pinned by sha256 so a damaged install is one clear error.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { verifySha256 } from "../core/checksum.ts";
import { UserError } from "../core/errors.ts";
import { convertLlama2c, type HfLlamaModel } from "./convert-llama2c.ts";

export const STORIES260K = "stories260K";

/** assets/stories260K/, two folders above this file's room. */
export const STORIES260K_DIR = fileURLToPath(new URL("../../assets/stories260K", import.meta.url));

export const STORIES260K_FILES = {
  checkpoint: { file: "stories260K.bin", sha256: "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696" },
  tokenizer: { file: "tok512.bin", sha256: "037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312" },
} as const;

const FIX = "reinstall lorascope (the file ships in its assets/stories260K folder)";

function readPinned(dir: string, which: keyof typeof STORIES260K_FILES): Uint8Array {
  const { file, sha256 } = STORIES260K_FILES[which];
  const p = path.join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(p);
  } catch {
    throw new UserError(`${p} cannot be read: ${FIX}`);
  }
  verifySha256(bytes, sha256, p, FIX);
  return bytes;
}

/** The bundled stories260K as an HF Llama model in memory (config, tensors, tokenizer); nothing is written. */
export function loadStories260K(dir = STORIES260K_DIR): HfLlamaModel {
  const ckpt = readPinned(dir, "checkpoint");
  const tok = readPinned(dir, "tokenizer");
  return convertLlama2c(ckpt, tok, {
    checkpoint: path.join(dir, STORIES260K_FILES.checkpoint.file),
    tokenizer: path.join(dir, STORIES260K_FILES.tokenizer.file),
  });
}
