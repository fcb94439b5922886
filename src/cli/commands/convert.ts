// `lorascope convert llama2c --checkpoint F.bin --tokenizer T.bin --out DIR`: a llama2.c checkpoint and
// tokenizer as a Hugging Face Llama folder (config.json, model.safetensors, tokenizer.json, …).
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";

const FORMATS = ["llama2c"] as const;

const FLAGS: FlagTable = {
  checkpoint: { kind: "string", help: "llama2.c checkpoint (run.c's legacy format, e.g. stories260K.bin)" },
  tokenizer: { kind: "string", help: "llama2.c tokenizer file (e.g. tok512.bin)" },
  out: { kind: "string", help: "folder to write; must not exist or be empty" },
};

export const convert: Command = {
  name: "convert",
  summary: "convert a llama2.c checkpoint and tokenizer to a Hugging Face model folder",
  help: [
    "Usage: lorascope convert llama2c --checkpoint F.bin --tokenizer T.bin --out DIR",
    "",
    "Writes config.json, model.safetensors (F32), tokenizer.json, tokenizer_config.json and",
    "generation_config.json, loadable by transformers' AutoModelForCausalLM and AutoTokenizer. The",
    "folder appears whole or not at all. The bundled model: --checkpoint assets/stories260K/stories260K.bin",
    "--tokenizer assets/stories260K/tok512.bin.",
    "",
    flagHelp(FLAGS),
  ].join("\n"),
  async run(argv) {
    const { flags, positional } = parseFlags(FLAGS, argv);
    const [format, ...rest] = positional;
    if (format === undefined || !(FORMATS as readonly string[]).includes(format) || rest.length > 0) {
      throw new UserError(`convert takes one source format (${FORMATS.join(", ")}), got ${positional.length === 0 ? "none" : positional.join(" ")}`);
    }
    const need = (name: string): string => {
      const v = flags[name];
      if (typeof v !== "string") throw new UserError(`convert llama2c needs --${name} (${FLAGS[name]?.help ?? ""})`);
      return v;
    };
    const checkpoint = need("checkpoint");
    const tokenizer = need("tokenizer");
    const out = need("out");
    const { loadLlama2c, writeHfLlama } = await import("../../io/convert-llama2c.ts");
    const model = await loadLlama2c(checkpoint, tokenizer);
    await writeHfLlama(out, model);
    const c = model.config;
    process.stdout.write(
      `wrote ${out}: llama, ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${c.num_attention_heads} heads ` +
        `(${c.num_key_value_heads} kv), vocab ${c.vocab_size}, ${model.tensors.size} tensors\n`,
    );
    return 0;
  },
};
