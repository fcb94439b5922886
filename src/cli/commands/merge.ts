// `lorascope merge --model DIR|stories260K --adapter DIR --out DIR`: the model with the adapter folded
// in (W + s·B·A) as a Hugging Face folder that lorascope and transformers load without PEFT.
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { LM_MODEL_FLAG, checkAdapterFlag } from "../lm-paths.ts";
import { checkLmPath } from "../../io/lm-path.ts";

export const MERGE_FLAGS = {
  ...LM_MODEL_FLAG,
  adapter: { kind: "string", value: "dir", required: true, help: "the PEFT adapter folder to fold into the weights" },
  out: { kind: "string", required: true, short: "o", value: "dir", setting: false, help: "folder to write; must not exist or be empty" },
} as const satisfies FlagTable;

export const merge: Command = {
  name: "merge",
  summary: "fold a LoRA adapter into a causal LM's weights and write a Hugging Face model folder",
  help: () =>
    commandHelp(
      "Usage: lorascope merge --model DIR|stories260K --adapter DIR --out DIR",
      [
        "Writes model.safetensors (F32) with every adapted weight replaced by W + s·B·A (s = lora_alpha/r, or lora_alpha/√r " +
          "with use_rslora; GPT-2's Conv1D weights stored [in, out] as in the source) and copies the model's other files " +
          "(config.json, generation_config.json, tokenizer files; for stories260K those of `lorascope convert llama2c`). " +
          "transformers' AutoModelForCausalLM loads the folder as it is. The folder appears whole or not at all.",
      ],
      MERGE_FLAGS,
    ),
  async prepare(argv) {
    const { values, positional } = await parseFlags(MERGE_FLAGS, argv);
    if (positional.length > 0) throw new UserError(`merge takes no positional arguments, got ${positional.join(" ")}`);
    checkLmPath(values.model);
    checkAdapterFlag(values.adapter);
    // The folder is written whole at the end; its place is checked now, before the model is read.
    const { guardOutDir } = await import("../../io/out-dir.ts");
    await guardOutDir(values.out, { mode: "fresh", command: "merge" });
    return () => runMerge(values.model, values.adapter, values.out);
  },
};

async function runMerge(model: string, adapterDir: string, out: string): Promise<number> {
  const { loadLm, mergedWeights, writeMergedFolder } = await import("../../io/lm-model.ts");
  const { loadAdapter } = await import("../../io/peft.ts");
  const { disposeTree } = await import("../../engine/index.ts");
  const adapter = await loadAdapter(adapterDir);
  const source = await loadLm(model);
  const params = mergedWeights(source.params, adapter, adapterDir, source.name);
  try {
    await writeMergedFolder(out, source, params);
  } finally {
    disposeTree(params);
  }
  process.stdout.write(`wrote ${out}: ${source.name} with ${adapter.modules.size} adapted modules merged\n`);
  return 0;
}
