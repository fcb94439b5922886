// `lorascope evaluate --model stories260K|DIR [--adapter DIR] --data F [--seq-len N] [--json]`: the
// held-out loss and perplexity of a causal LM, with a PEFT adapter applied when one is given.
import { UserError } from "../../core/errors.ts";
import { LM_EVALUATE_FLAGS } from "../lm-flags.ts";
import { parseFlags, type FlagValues } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { checkModelAndOut } from "./finetune-lm.ts";

type Values = FlagValues<typeof LM_EVALUATE_FLAGS>;

async function runLmEvaluate(v: Values): Promise<number> {
  const { evaluateLm } = await import("../../experiments/lm/evaluate.ts");
  const r = await evaluateLm({
    model: v.model,
    data: v.data,
    seqLen: v["seq-len"],
    batch: v.batch,
    split: v.split,
    ...(v.adapter === undefined ? {} : { adapter: v.adapter }),
    ...(v.limit === undefined ? {} : { limit: v.limit }),
  });
  if (v.json) process.stdout.write(JSON.stringify({ loss: r.loss, perplexity: r.perplexity, tokens: r.tokens }) + "\n");
  else {
    process.stdout.write(
      `${v.model}${v.adapter === undefined ? "" : ` + ${v.adapter}`} on ${r.description}: loss ${r.loss.toFixed(4)}, ` +
        `perplexity ${r.perplexity.toFixed(2)} over ${r.tokens} predicted tokens (${r.sequences} sequences)\n`,
    );
  }
  return 0;
}

export function lmEvaluateHelp(): string {
  return commandHelp(
    "Usage: lorascope evaluate --model stories260K|DIR [--adapter DIR] --data F|sotu|brown[:genre] [--split test] [--seq-len N] [--json]",
    [
      "The mean next-token loss over every predicted token of the data (Hugging Face's causal-LM convention) and its perplexity, for the model alone or with a PEFT adapter applied. An adapter made for another model (a module it lacks, or other shapes) is refused with one sentence.",
    ],
    LM_EVALUATE_FLAGS,
  );
}

export async function prepareLmEvaluate(argv: readonly string[]): Promise<() => Promise<number>> {
  const { values: v, positional } = await parseFlags(LM_EVALUATE_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`evaluate takes only flags, got "${positional[0] as string}"`);
  await checkModelAndOut(v.model, v["seq-len"], undefined);
  return () => runLmEvaluate(v);
}
