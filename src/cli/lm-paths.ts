// `--model DIR|stories260K` and `--adapter DIR` for generate and merge, found wrong before anything is
// loaded (a missing folder, a file where a folder belongs, a folder without config.json).
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import type { FlagTable } from "./flag-table.ts";

/** The bundled model's name (io/stories260k.ts STORIES260K, repeated so --help loads no io code). */
export const BUNDLED_LM = "stories260K";

export const LM_MODEL_FLAG = {
  model: {
    kind: "string",
    required: true,
    value: "dir|stories260K",
    help: "a Hugging Face causal-LM folder (config.json + safetensors weights, Llama or GPT-2) or the bundled stories260K",
  },
} as const satisfies FlagTable;

/** A --model that is neither the bundled name nor a folder with a config.json is a usage error. */
export function checkModelFlag(model: string): void {
  if (model === BUNDLED_LM) return;
  if (!existsSync(model)) throw new UserError(`--model ${model} is neither ${BUNDLED_LM} nor an existing folder`);
  if (!statSync(model).isDirectory()) throw new UserError(`--model ${model} is a file; give a model folder or ${BUNDLED_LM}`);
  if (!existsSync(path.join(model, "config.json"))) {
    throw new UserError(`--model ${model} has no config.json; give a Hugging Face model folder (save_pretrained) or ${BUNDLED_LM}`);
  }
}

/** An --adapter that is not a folder is a usage error (its files are checked when read). */
export function checkAdapterFlag(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`--adapter ${dir} is not a folder; give a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)`);
  }
}
