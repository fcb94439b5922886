// The data of an encoder finetune: a built-in task split reproducibly from the seed, or the user's
// own folder (train/valid/test.jsonl, data/labelled-jsonl.ts) taken as it is; either subsampled by
// --limit / --eval-limit, then tokenized and embedded once.
import { UserError } from "../../core/errors.ts";
import * as prng from "../../core/prng.ts";
import type { Key } from "../../core/prng.ts";
import { embedSentence, encode, loadUseLiteVocabulary, makeTokenizer, type UseLite } from "../../models/use-lite/index.ts";
import {
  loadLabelledJsonl,
  loadSentiment,
  loadSpam,
  stratifiedSplit,
  type TextDataset,
  type TextExample,
} from "../../data/index.ts";
import type * as clf from "../../models/use-lite/classifier.ts";
import { ENCODER_TASKS, type EncoderFinetuneSpec, type EncoderTask } from "./spec.ts";

export interface SplitInfo {
  readonly seed: number;
  readonly fractions: { readonly validation: number; readonly test: number };
  /** Sizes of the full splits, before --limit / --eval-limit. */
  readonly full: { readonly train: number; readonly validation: number; readonly test: number };
  /** Sizes used. */
  readonly used: { readonly train: number; readonly validation: number; readonly test: number };
  readonly limit: number | null;
  readonly evalLimit: number | null;
}

/** The loaded task: examples split reproducibly from the seed, subsampled as the spec says. */
export interface TaskData {
  readonly dataset: TextDataset;
  readonly train: readonly TextExample[];
  readonly validation: readonly TextExample[];
  readonly test: readonly TextExample[];
  readonly splits: SplitInfo;
}

function loadTask(task: EncoderTask): TextDataset {
  switch (task) {
    case "sentiment":
      return loadSentiment();
    case "spam":
      return loadSpam();
    default: {
      const never: never = task;
      throw new UserError(`task "${String(never)}" is unknown; use one of ${ENCODER_TASKS.join(", ")}`);
    }
  }
}

/** A random subsample of `n` examples kept in their original order (all of them if n ≥ length). */
function subsample<T>(key: Key, xs: readonly T[], n: number | undefined): readonly T[] {
  if (n === undefined || n >= xs.length) return xs;
  const keep = Array.from(prng.permutation(key, xs.length)).slice(0, n).sort((a, b) => a - b);
  return keep.map((i) => xs[i] as T);
}

export function taskData(
  spec: Pick<EncoderFinetuneSpec, "task" | "data" | "seed" | "limit" | "evalLimit">,
): TaskData {
  const root = prng.key(spec.seed);
  let dataset: TextDataset;
  let s: { train: readonly TextExample[]; validation: readonly TextExample[]; test: readonly TextExample[] };
  let fractions: SplitInfo["fractions"];
  if (spec.data !== undefined) {
    // The user's splits are used as given: no re-splitting, the seed only picks --limit subsamples.
    const d = loadLabelledJsonl(spec.data);
    const examples = [...d.train, ...d.validation, ...d.test];
    dataset = { name: d.name, labels: d.labels, examples, citation: spec.data };
    s = d;
    const n = dataset.examples.length;
    fractions = { validation: d.validation.length / n, test: d.test.length / n };
  } else {
    if (spec.task === undefined) throw new UserError("give a built-in task or a data folder");
    dataset = loadTask(spec.task);
    fractions = { validation: 0.1, test: 0.1 };
    s = stratifiedSplit(prng.fold(root, "split"), dataset.examples, dataset.labels.length, fractions);
  }
  const train = subsample(prng.fold(root, "limit"), s.train, spec.limit);
  const validation = subsample(prng.fold(root, "eval-validation"), s.validation, spec.evalLimit);
  const test = subsample(prng.fold(root, "eval-test"), s.test, spec.evalLimit);
  return {
    dataset,
    train,
    validation,
    test,
    splits: {
      seed: spec.seed,
      fractions,
      full: { train: s.train.length, validation: s.validation.length, test: s.test.length },
      used: { train: train.length, validation: validation.length, test: test.length },
      limit: spec.limit ?? null,
      evalLimit: spec.evalLimit ?? null,
    },
  };
}

/** Tokenize and embed (frozen, exact, host) every example once. */
export function cacheExamples(model: UseLite, examples: readonly TextExample[]): clf.Cached & { truncated: number } {
  const tok = makeTokenizer(loadUseLiteVocabulary());
  const { ids, truncated } = encode(tok, examples.map((e) => e.text));
  return { rows: ids.map((s) => embedSentence(model.frozen, s)), labels: examples.map((e) => e.label), truncated };
}

