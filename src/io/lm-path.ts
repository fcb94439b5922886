// The one check of what `--model` names for a language-model command, made before anything is loaded
// and free of engine and model imports (the CLI runs it while parsing flags): the bundled model's
// name, or a folder with a config.json.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.ts";

/** The bundled model's name (io/stories260k.ts STORIES260K; repeated so this file loads nothing else). */
export const BUNDLED_LM = "stories260K";

/** Refuse, in one sentence, a `--model` that is neither the bundled name nor a folder with a config.json. */
export function checkLmPath(model: string): void {
  if (model === BUNDLED_LM) return;
  if (model === "" || !existsSync(model)) {
    throw new UserError(`--model ${model} is neither "${BUNDLED_LM}" (the bundled model) nor an existing folder; give a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)`);
  }
  if (!statSync(model).isDirectory()) throw new UserError(`--model ${model} is a file; give a Hugging Face model folder (config.json, model.safetensors, tokenizer.json) or ${BUNDLED_LM}`);
  if (!existsSync(path.join(model, "config.json"))) {
    throw new UserError(`--model ${model} has no config.json; give a Hugging Face model folder (save_pretrained) or ${BUNDLED_LM}`);
  }
}
