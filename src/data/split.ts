// Deterministic stratified train/validation/test splits of a labelled dataset. Each class is
// permuted with its own key, fold(key, "class-<label>"), and cut by the same fractions, so every
// split keeps the class balance and the same seed gives the same split on every machine
// (core/prng is host-side). Within a split, examples keep the dataset's order; the training loop
// shuffles per epoch.
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";

export interface SplitFractions {
  /** Share of each class held out for validation (default 0.1). */
  readonly validation: number;
  /** Share of each class held out for the final test (default 0.1). */
  readonly test: number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { validation: 0.1, test: 0.1 };

export interface SplitSizes {
  readonly train: number;
  readonly validation: number;
  readonly test: number;
  /** Examples per split and label: perLabel[split][label]. */
  readonly perLabel: Readonly<Record<"train" | "validation" | "test", readonly number[]>>;
}

export interface Splits<T> {
  readonly train: readonly T[];
  readonly validation: readonly T[];
  readonly test: readonly T[];
  readonly sizes: SplitSizes;
}

/** Split `examples` (labels 0..numLabels-1) by class, reproducibly from `key`. */
export function stratifiedSplit<T extends { readonly label: number }>(
  key: Key,
  examples: readonly T[],
  numLabels: number,
  fractions: SplitFractions = DEFAULT_FRACTIONS,
): Splits<T> {
  const { validation, test } = fractions;
  for (const [name, f] of Object.entries(fractions)) {
    if (!(typeof f === "number" && f >= 0 && f < 1))
      throw new UserError(`the ${name} fraction must be in [0, 1), got ${String(f)}`);
  }
  if (validation + test >= 1) {
    throw new UserError(
      `validation + test fractions must leave examples to train on (sum < 1), got ${validation + test}`,
    );
  }
  const byLabel: number[][] = Array.from({ length: numLabels }, () => []);
  examples.forEach((e, i) => {
    const bucket = byLabel[e.label];
    if (bucket === undefined) throw new Error(`example ${i} has label ${e.label}, outside 0..${numLabels - 1}`);
    bucket.push(i);
  });
  const which = new Int8Array(examples.length); // 0 train, 1 validation, 2 test
  const perLabel = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  byLabel.forEach((indices, label) => {
    const order = prng.permutation(prng.fold(key, `class-${label}`), indices.length);
    const nTest = Math.round(indices.length * test);
    const nVal = Math.round(indices.length * validation);
    order.forEach((o, rank) => {
      which[indices[o] as number] = rank < nTest ? 2 : rank < nTest + nVal ? 1 : 0;
    });
    perLabel.test.push(nTest);
    perLabel.validation.push(nVal);
    perLabel.train.push(indices.length - nTest - nVal);
  });
  const pick = (k: number) => examples.filter((_, i) => which[i] === k);
  const out = { train: pick(0), validation: pick(1), test: pick(2) };
  return {
    ...out,
    sizes: { train: out.train.length, validation: out.validation.length, test: out.test.length, perLabel },
  };
}
