// A sweep's texts tokenized once, before its runs: the training text and the held-out sets every run
// reads (the same calls runLmFinetune makes), stored in the sweep's token cache so that each run,
// in whatever worker process, reads the ids instead of tokenizing again. Needs the tokenizer only:
// no weights are loaded and the engine is not started.
import { loadLmTokenizer } from "../../io/lm-model.ts";
import { lmSequences } from "./evaluate.ts";
import { hasTestSplit, validationOf, type LmFinetuneSpec } from "./spec.ts";

export async function pretokenize(
  s: Pick<LmFinetuneSpec, "model" | "data" | "valid" | "seqLen">,
  tokenCache: string,
  progress: (line: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const tok = await loadLmTokenizer(s.model);
  const texts: Array<[string, "train" | "validation" | "test"]> = [[s.data, "train"]];
  const valid = validationOf(s);
  if (valid !== undefined) texts.push([valid, "validation"]);
  if (hasTestSplit(s)) texts.push([s.data, "test"]);
  for (const [spec, split] of texts) lmSequences(tok, spec, s.seqLen, split, { tokenCache });
  progress(`tokenized ${texts.map(([t, split]) => `${t} (${split})`).join(", ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s; ids in ${tokenCache}`);
}
