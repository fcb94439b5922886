// `lorascope convert llama2c --checkpoint F.bin --tokenizer T.bin --out DIR`: a llama2.c checkpoint and
// tokenizer as a Hugging Face Llama folder (config.json, model.safetensors, tokenizer.json, …).
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";

const FORMATS = ["llama2c"] as const;

export const CONVERT_FLAGS = {
  checkpoint: {
    kind: "string",
    required: true,
    value: "file",
    help: "llama2.c checkpoint (run.c's legacy format, e.g. stories260K.bin)",
  },
  tokenizer: { kind: "string", required: true, value: "file", help: "llama2.c tokenizer file (e.g. tok512.bin)" },
  out: { kind: "string", required: true, short: "o", value: "dir", setting: false, help: "folder to write; must not exist or be empty" },
} as const satisfies FlagTable;

export const convert: Command = {
  name: "convert",
  summary: "convert a llama2.c checkpoint and tokenizer to a Hugging Face model folder",
  help: () =>
    commandHelp(
      "Usage: lorascope convert llama2c --checkpoint F.bin --tokenizer T.bin --out DIR",
      [
        "Writes config.json, model.safetensors (F32), tokenizer.json, tokenizer_config.json and generation_config.json, " +
          "loadable by transformers' AutoModelForCausalLM and AutoTokenizer. The folder appears whole or not at all. " +
          "The bundled model: --checkpoint assets/stories260K/stories260K.bin --tokenizer assets/stories260K/tok512.bin.",
      ],
      CONVERT_FLAGS,
    ),
  async prepare(argv) {
    const { values, positional } = await parseFlags(CONVERT_FLAGS, argv);
    const [format, ...rest] = positional;
    if (format === undefined || !(FORMATS as readonly string[]).includes(format) || rest.length > 0) {
      const got = positional.length === 0 ? "none" : positional.join(" ");
      throw new UserError(`convert takes one source format (${FORMATS.join(", ")}), got ${got}`);
    }
    // A non-empty --out is a mistake in the command line: refused before the checkpoint is read.
    const { guardOutDir } = await import("../../io/out-dir.ts");
    await guardOutDir(values.out, { mode: "fresh", command: "convert" });
    return () => runConvert(values.checkpoint, values.tokenizer, values.out);
  },
};

async function runConvert(checkpoint: string, tokenizer: string, out: string): Promise<number> {
  const { convertLlama2cFiles } = await import("../../io/convert-llama2c.ts");
  const { config: c, tensors } = await convertLlama2cFiles(checkpoint, tokenizer, out);
  process.stdout.write(
    `wrote ${out}: llama, ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${c.num_attention_heads} heads ` +
      `(${c.num_key_value_heads} kv), vocab ${c.vocab_size}, ${tensors} tensors\n`,
  );
  return 0;
}
