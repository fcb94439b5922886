// `lorascope generate --model DIR|stories260K [--adapter DIR] --prompt TEXT --max-new-tokens N
// [--temperature T] [--top-p P] [--seed S] [--json]`: KV-cached text generation, streamed to stdout.
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { LM_MODEL_FLAG, checkAdapterFlag } from "../lm-paths.ts";
import { checkLmPath } from "../../io/lm-path.ts";

export const GENERATE_FLAGS = {
  ...LM_MODEL_FLAG,
  adapter: { kind: "string", value: "dir", help: "a PEFT adapter folder for the model; merged into the weights before decoding" },
  prompt: { kind: "string", value: "text", default: "", help: "text to continue (the tokenizer adds its BOS token)" },
  "max-new-tokens": { kind: "int", value: "n", min: 1, default: 256, help: "most tokens to add; generation stops earlier at EOS" },
  temperature: { kind: "number", value: "t", min: 0, default: 1, help: "softmax temperature; 0 decodes greedily" },
  "top-p": { kind: "number", value: "p", positive: true, default: 0.9, help: "nucleus sampling: draw from the most probable tokens whose mass first reaches p (1: all)" },
  seed: { kind: "int", value: "s", min: 0, default: 0, help: "seed of the sampling stream (the same seed, the same text)" },
  json: { kind: "bool", setting: false, help: "print one JSON document {text, tokens, tokensPerSecond, finish} instead of streaming" },
} as const satisfies FlagTable;

interface GenerateRun {
  readonly model: string;
  readonly adapter: string | undefined;
  readonly prompt: string;
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly json: boolean;
}

export const generate: Command = {
  name: "generate",
  summary: "continue a prompt with a causal LM (KV cache; greedy or nucleus sampling), optionally with an adapter",
  help: () =>
    commandHelp(
      "Usage: lorascope generate --model DIR|stories260K [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--json]",
      [
        "Streams the prompt and its continuation to stdout as tokens arrive. With --adapter the LoRA factors are folded into the weights " +
          "(W + s·B·A) before decoding, which gives the same tokens as the unmerged forward pass at less cost per token. " +
          "--json prints one document: text (prompt and continuation), tokens (the new ids), tokensPerSecond and finish (eos or length).",
      ],
      GENERATE_FLAGS,
    ),
  async prepare(argv) {
    const { values, positional } = await parseFlags(GENERATE_FLAGS, argv);
    if (positional.length > 0) throw new UserError(`generate takes no positional arguments, got ${positional.join(" ")}`);
    if (values["top-p"] > 1) throw new UserError(`--top-p must be at most 1, got ${values["top-p"]}`);
    checkLmPath(values.model);
    if (values.adapter !== undefined) checkAdapterFlag(values.adapter);
    const run: GenerateRun = {
      model: values.model,
      adapter: values.adapter,
      prompt: values.prompt,
      maxNewTokens: values["max-new-tokens"],
      temperature: values.temperature,
      topP: values["top-p"],
      seed: values.seed,
      json: values.json,
    };
    return () => runGenerate(run);
  },
};

async function runGenerate(run: GenerateRun): Promise<number> {
  const { loadLm, mergedWeights, requireTokenizer } = await import("../../io/lm-model.ts");
  const { loadAdapter } = await import("../../io/peft.ts");
  const { generate: decode, TextStream } = await import("../../models/generate.ts");
  const { disposeTree } = await import("../../engine/index.ts");
  const source = await loadLm(run.model);
  const tokenizer = requireTokenizer(source, "generating text");
  let params = source.params;
  if (run.adapter !== undefined) {
    params = mergedWeights(params, await loadAdapter(run.adapter), run.adapter, source.name);
  }
  const prompt = tokenizer.encode(run.prompt);
  const stream = new TextStream(tokenizer, prompt);
  if (!run.json) process.stdout.write(stream.text());
  try {
    const out = await decode(params, source.config, prompt, {
      maxNewTokens: run.maxNewTokens,
      temperature: run.temperature,
      topP: run.topP,
      seed: run.seed,
      eosId: tokenizer.eosId,
      onToken: (id) => {
        const piece = stream.push(id);
        if (!run.json && piece !== "") process.stdout.write(piece);
      },
    });
    const rest = stream.flush();
    const tokensPerSecond = out.tokens.length / out.seconds;
    if (run.json) {
      process.stdout.write(JSON.stringify({ text: stream.text(), tokens: out.tokens, tokensPerSecond, finish: out.finish }) + "\n");
    } else {
      process.stdout.write(rest + "\n");
      process.stderr.write(`${out.tokens.length} tokens (${out.finish}), ${tokensPerSecond.toFixed(1)} tokens/s\n`);
    }
  } finally {
    disposeTree(params);
  }
  return 0;
}
