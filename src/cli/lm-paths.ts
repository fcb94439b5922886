// `--model DIR|stories260K` and `--adapter DIR` for generate and merge, found wrong before anything is
// loaded (the model's check is io/lm-path.ts checkLmPath, shared by every LM command).
import { existsSync, statSync } from "node:fs";
import { UserError } from "../core/errors.ts";
import { BUNDLED_LM } from "../io/lm-path.ts";
import type { FlagTable } from "./flag-table.ts";

export { BUNDLED_LM };

export const LM_MODEL_FLAG = {
  model: {
    kind: "string",
    required: true,
    value: "dir|stories260K",
    help: "a Hugging Face causal-LM folder (config.json + safetensors weights, Llama or GPT-2) or the bundled stories260K",
  },
} as const satisfies FlagTable;

/** An --adapter that is not a folder is a usage error (its files are checked when read). */
export function checkAdapterFlag(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`--adapter ${dir} is not a folder; give a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)`);
  }
}
