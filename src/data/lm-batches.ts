// Token sequences → [B, T] batches for a causal language model, and how their losses add up.
//
// A batch holds `batchSize` rows (a short last batch is filled with rows of padding, so B never
// changes) padded with the caller's pad id to T, the smallest of a few allowed lengths that fits
// its longest row: each new [B, T] costs the jitted step a compile, so T takes at most four values.
//
// The mask sits on the targets: mask[b, t] = 1 when ids[b, t] is a real token with t ≥ 1, i.e. one
// the model predicts from ids[b, <t] (its logits at position t−1). Position 0 and padding are 0.
//
// Loss convention: a batch's loss is the mean over its predicted tokens, not over rows, and comes
// with the count of those tokens, so batches of different fill combine exactly into the mean over
// every predicted token of the data (combineTokenLosses).
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";

export interface LmBatch {
  /** Token ids, [batchSize, length] row-major; padding holds the pad id. */
  readonly ids: Int32Array;
  /** 1 where ids[b, t] is predicted (a real token at t ≥ 1), else 0; [batchSize, length]. */
  readonly mask: Float32Array;
  readonly batchSize: number;
  readonly length: number;
  /** Rows holding a sequence; the rest are padding only. */
  readonly rows: number;
  /** Sum of mask: how many tokens this batch predicts. */
  readonly predicted: number;
}

export interface LmBatchOptions {
  /** Rows per batch (B). */
  readonly batchSize: number;
  /** Id written into padding; its positions are masked out, so any valid id will do. */
  readonly padId: number;
  /** Allowed padded lengths (T), e.g. padLengths(seqLen); every sequence must fit the largest. */
  readonly lengths: readonly number[];
}

/** seqLen and its halves down to an eighth (at least 2): four shapes at most. */
export function padLengths(seqLen: number): number[] {
  const set = new Set([1, 2, 4, 8].map((d) => Math.max(2, Math.ceil(seqLen / d))));
  return [...set].sort((a, b) => a - b);
}

/** One batch of `seqs` (at most batchSize of them), padded as described in the header. */
export function makeBatch(seqs: readonly Int32Array[], { batchSize, padId, lengths }: LmBatchOptions): LmBatch {
  if (seqs.length > batchSize) throw new Error(`makeBatch got ${seqs.length} sequences for ${batchSize} rows`);
  const longest = seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const length = [...lengths].sort((a, b) => a - b).find((l) => l >= longest);
  if (length === undefined) throw new Error(`a sequence of ${longest} tokens is longer than every allowed length (${lengths.join(", ")})`);
  const ids = new Int32Array(batchSize * length).fill(padId); // [B, T]
  const mask = new Float32Array(batchSize * length); // [B, T]
  let predicted = 0;
  seqs.forEach((s, b) => {
    ids.set(s, b * length);
    mask.fill(1, b * length + 1, b * length + s.length);
    predicted += Math.max(0, s.length - 1);
  });
  return { ids, mask, batchSize, length, rows: seqs.length, predicted };
}

function checkOptions(o: LmBatchOptions): void {
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new UserError(`the batch size must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.padId) || o.padId < 0) throw new Error(`the pad id must be a non-negative integer, got ${o.padId}`);
  if (o.lengths.length === 0) throw new Error("no allowed batch lengths were given");
}

/**
 * The batches of one training epoch: sequences in the order permutation(fold(key, epoch)), so a
 * seed and an epoch number fix the order on every machine, and consecutive epochs differ.
 */
export function trainBatches(
  key: Key,
  epoch: number,
  sequences: readonly Int32Array[],
  options: LmBatchOptions,
): LmBatch[] {
  checkOptions(options);
  const order = prng.permutation(prng.fold(key, epoch), sequences.length);
  const shuffled = Array.from(order, (i) => sequences[i] as Int32Array);
  return chunk(shuffled, options);
}

/**
 * The batch of each training step: batch step mod stepsPerEpoch of epoch ⌊step / stepsPerEpoch⌋, each
 * epoch in the order permutation(fold(key, epoch)) — a function of the step number alone, so a run
 * resumed at any step draws the batches the uninterrupted run would have. One epoch is kept at a time.
 */
export function batchSchedule(
  key: Key,
  sequences: readonly Int32Array[],
  options: LmBatchOptions,
): (step: number) => LmBatch {
  const stepsPerEpoch = Math.ceil(sequences.length / options.batchSize);
  let current: { epoch: number; batches: LmBatch[] } | undefined;
  return (step) => {
    const epoch = Math.floor(step / stepsPerEpoch);
    if (current?.epoch !== epoch) current = { epoch, batches: trainBatches(key, epoch, sequences, options) };
    return current.batches[step % stepsPerEpoch] as LmBatch;
  };
}

/** Evaluation batches: the sequences in their given order, every one of them exactly once. */
export function evalBatches(sequences: readonly Int32Array[], options: LmBatchOptions): LmBatch[] {
  checkOptions(options);
  return chunk(sequences, options);
}

function chunk(sequences: readonly Int32Array[], options: LmBatchOptions): LmBatch[] {
  const out: LmBatch[] = [];
  for (let i = 0; i < sequences.length; i += options.batchSize) {
    out.push(makeBatch(sequences.slice(i, i + options.batchSize), options));
  }
  return out;
}

/** A loss as the mean over `count` predicted tokens. */
export interface TokenLoss {
  readonly mean: number;
  readonly count: number;
}

/**
 * The token-weighted loss of one batch from per-token losses [B, T] (−log p of ids[b, t], read
 * from the logits at t−1) and the batch's mask. The host-side statement of the convention that the
 * jitted step computes as sum(loss · mask) / sum(mask).
 */
export function maskedTokenLoss(perToken: Float32Array, mask: Float32Array): TokenLoss {
  if (perToken.length !== mask.length) throw new Error(`per-token losses (${perToken.length}) and mask (${mask.length}) differ in size`);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i] as number;
    if (m === 0) continue;
    sum += m * (perToken[i] as number);
    count += m;
  }
  // An empty batch counts as mean 0 over 0 tokens, which adds nothing when combined.
  return { mean: count === 0 ? 0 : sum / count, count };
}

/** Batches' token-weighted means combined into the mean over all their predicted tokens. */
export function combineTokenLosses(parts: readonly TokenLoss[]): TokenLoss {
  let sum = 0;
  let count = 0;
  for (const p of parts) {
    sum += p.mean * p.count;
    count += p.count;
  }
  return { mean: count === 0 ? Number.NaN : sum / count, count };
}
