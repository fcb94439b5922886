// USE-lite as a sentence classifier: the encoder (LoRA-adapted or not) followed by a new linear head
// `classifier` [numLabels, 512], plus what finetuning and evaluation need around it — padded batches
// in fixed length buckets, cross-entropy, exact evaluation in a fixed order, and the frozen-encoder
// linear probe's embeddings (the probe itself trains with an optimizer: experiments/encoder/probe.ts).
import type { Params } from "../../core/tree.ts";
import * as prng from "../../core/prng.ts";
import type { Key } from "../../core/prng.ts";
import { jit, jnn, np, readAndDispose, refTree, tensor, type Tensor } from "../../engine/index.ts";
import { context as loraContext } from "../../lora/linear.ts";
import { at, type Ctx } from "../../nn/context.ts";
import * as linear from "../../nn/linear.ts";
import { apply as encode, packBatch, D_MODEL } from "./model.ts";
import type { UseLiteConstants } from "./weights.ts";

/**
 * Padded sequence lengths. Each distinct [B, L] costs kernel compilation (seconds), so batches are
 * padded up to the next bucket; padding is masked everywhere and never changes a sentence's output.
 */
export const LENGTH_BUCKETS = [16, 32, 64, 128] as const;

export function bucketFor(longest: number): number {
  const b = LENGTH_BUCKETS.find((l) => l >= longest);
  if (b === undefined) throw new Error(`a sentence of ${longest} tokens is longer than the encoder's 128`);
  return b;
}

/** A dataset ready for the device: per-sentence x0 rows (model.embedSentence) and labels. */
export interface Cached {
  /** x0 per sentence, [tokens · 256] row-major. */
  readonly rows: readonly Float32Array[];
  readonly labels: readonly number[];
}

/**
 * x [B, L, 256], mask [B, L] and weight [B] of the chosen sentences, padded to their length bucket
 * (owned tensors). With `padBatchTo`, a short batch gets empty rows (x 0, mask 0, weight 0) up to
 * that size, so the last batch of an epoch reuses the full batch's compiled step instead of a new shape.
 */
export function batchOf(
  data: Cached,
  indices: readonly number[],
  padBatchTo = indices.length,
): { x: Tensor; mask: Tensor; weight: Tensor } {
  if (padBatchTo < indices.length)
    throw new Error(`batchOf(): padBatchTo ${padBatchTo} is smaller than the batch (${indices.length})`);
  const rows = indices.map((i) => data.rows[i] as Float32Array);
  const longest = Math.max(1, ...rows.map((r) => r.length / 256));
  const empty = new Float32Array(0);
  const { x, mask } = packBatch(
    [...rows, ...Array<Float32Array>(padBatchTo - rows.length).fill(empty)],
    bucketFor(longest),
  );
  const weight = new Float32Array(padBatchTo).fill(1, 0, indices.length);
  return { x, mask, weight: tensor(weight, [padBatchTo]) };
}

/** One-hot labels [B, C] (owned); rows past `indices` (batch padding) are all zero. */
export function oneHot(
  labels: readonly number[],
  indices: readonly number[],
  numLabels: number,
  padBatchTo = indices.length,
): Tensor {
  const out = new Float32Array(padBatchTo * numLabels);
  indices.forEach((i, b) => (out[b * numLabels + (labels[i] as number)] = 1));
  return tensor(out, [padBatchTo, numLabels]);
}

/** Mean cross-entropy −Σ y·log softmax(z) over a batch. Consumes both. logits, target [B, C]. */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  return np.negative(target.mul(jnn.logSoftmax(logits, -1)).sum(-1).mean()); // [B, C] → [B] → []
}

/**
 * Cross-entropy averaged over the rows of weight 1: −Σ_b w_b·Σ_c y·log softmax(z) / Σ_b w_b.
 * Padding rows (weight 0) add nothing to the loss or the gradients. Consumes all three.
 * logits, target [B, C]; weight [B].
 */
export function weightedCrossEntropy(logits: Tensor, target: Tensor, weight: Tensor): Tensor {
  const perRow = target.mul(jnn.logSoftmax(logits, -1)).sum(-1); // [B, C] → [B]
  const total = np.maximum(weight.ref.sum(), 1); // [] (≥ 1: an all-padding batch gives 0, not NaN)
  return np.negative(perRow.mul(weight).sum()).div(total);
}

/**
 * Logits [B, C] of a batch. `params` = {layers, pooler, classifier}, consumed with the batch.
 * `ctx` is the LoRA context (`lora.context({ scaling })`) or undefined for a model without factors.
 */
export function logitsOf(
  params: Params,
  x: Tensor,
  mask: Tensor,
  constants: UseLiteConstants,
  ctx: Ctx | undefined,
): Tensor {
  const { classifier, ...encoder } = params;
  if (classifier === undefined || !("weight" in classifier))
    throw new Error('the classifier params lack the module "classifier"');
  const emb = encode(encoder, { x, mask }, constants, ctx); // [B, 512]
  return linear.apply(classifier, emb, at(ctx, "classifier")); // [B, C]
}

/** The LoRA context of a scaling s; plain linear maps elsewhere. */
export function adapterContext(scaling: number): Ctx {
  return loraContext({ scaling });
}

/**
 * The jitted logits function of one (constants, ctx): traced once per [B, L] and reused by every
 * later evaluation with that context (cached per ctx object, so evaluating validation then test
 * does not trace twice). Called as f(params, x, mask); consumes its arguments.
 */
type LogitsFn = (params: Params, x: Tensor, mask: Tensor) => Tensor;
const jittedLogits = new WeakMap<object, LogitsFn>();
function logitsFn(constants: UseLiteConstants, ctx: Ctx | undefined): LogitsFn {
  const keyObj: object = ctx ?? constants;
  let f = jittedLogits.get(keyObj);
  if (f === undefined) {
    f = jit((p: Params, x: Tensor, mask: Tensor) => logitsOf(p, x, mask, constants, ctx));
    jittedLogits.set(keyObj, f);
  }
  return f;
}

type EncodeFn = (params: Params, x: Tensor, mask: Tensor) => Tensor;
const jittedEncode = new WeakMap<object, EncodeFn>();
function encodeFn(constants: UseLiteConstants): EncodeFn {
  let f = jittedEncode.get(constants);
  if (f === undefined) {
    f = jit((p: Params, x: Tensor, mask: Tensor) => encode(p, { x, mask }, constants));
    jittedEncode.set(constants, f);
  }
  return f;
}

/** Sentence indices sorted by length (ties by index): batches of similar length pad little. */
function byLength(data: Cached): number[] {
  return [...Array(data.labels.length).keys()].sort(
    (a, b) => (data.rows[a] as Float32Array).length - (data.rows[b] as Float32Array).length || a - b,
  );
}

/**
 * Run `f` over `data` in length-sorted batches of exactly `batchSize` rows (the last one padded) and
 * hand each batch's host output rows [B · width] to `put` with the batch's dataset indices.
 */
async function forEachBatch(
  data: Cached,
  batchSize: number,
  f: (x: Tensor, mask: Tensor) => Tensor,
  put: (idx: readonly number[], out: Float32Array) => void,
): Promise<void> {
  const order = byLength(data);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const { x, mask, weight } = batchOf(data, idx, batchSize);
    weight.dispose();
    put(idx, await readAndDispose(f(x, mask)));
  }
}

export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
  /** argmax class per example, in the dataset's order. */
  readonly predictions: number[];
  /** Logits per example [n][C], in the dataset's order. */
  readonly logits: number[][];
}

/**
 * Accuracy, mean cross-entropy and predictions of `params` on `data`. Borrows `params`. Batches are
 * formed in a fixed order (sentences sorted by length, ties by index) and always hold `batchSize`
 * rows (the last one padded), so the same params on the same data give bit-identical logits,
 * whoever calls it.
 */
export async function evaluate(
  params: Params,
  data: Cached,
  numLabels: number,
  constants: UseLiteConstants,
  ctx: Ctx | undefined,
  batchSize: number,
): Promise<Evaluation> {
  const f = logitsFn(constants, ctx);
  const logits: number[][] = new Array<number[]>(data.labels.length);
  await forEachBatch(data, batchSize, (x, mask) => f(refTree(params), x, mask), (idx, z) => {
    idx.forEach((i, b) => (logits[i] = Array.from(z.subarray(b * numLabels, (b + 1) * numLabels)))); // z [B, C]
  });
  return summarize(logits, data.labels);
}

/** Accuracy, loss and argmax of host logits (float64 on the host: exact enough to compare runs). */
export function summarize(logits: number[][], labels: readonly number[]): Evaluation {
  let correct = 0;
  let loss = 0;
  const predictions = logits.map((z, i) => {
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((acc, v) => acc + Math.exp(v - max), 0));
    loss += lse - (z[labels[i] as number] as number);
    const pred = z.indexOf(max);
    if (pred === labels[i]) correct++;
    return pred;
  });
  const n = Math.max(1, labels.length);
  return { accuracy: correct / n, loss: loss / n, predictions, logits };
}

/** Frozen-encoder sentence embeddings [n · 512] of a dataset, in its order. Borrows `encoder`. */
export async function embedAll(
  encoderParams: Params,
  data: Cached,
  constants: UseLiteConstants,
  batchSize: number,
): Promise<Float32Array> {
  const out = new Float32Array(data.labels.length * D_MODEL);
  const f = encodeFn(constants);
  await forEachBatch(
    data,
    batchSize,
    (x, mask) => f(refTree(encoderParams), x, mask),
    (idx, e) => {
      idx.forEach((i, b) => out.set(e.subarray(b * D_MODEL, (b + 1) * D_MODEL), i * D_MODEL)); // e [B, 512]
    },
  );
  return out;
}

/** A linear layer's values on the host: weight [out · in] row-major, bias [out]. */
export interface HostLinear {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * One epoch's batches, grouped by length bucket: the examples in a per-epoch random order are dealt
 * into their buckets (no sorting), each bucket is cut into batches of `batchSize`, and what is left
 * over in a bucket (< batchSize) moves up to the next longer one, so only the very last batch of the
 * epoch is short. The batch order is then shuffled. A random batch of 32 sentiment sentences almost
 * always holds one long sentence and pads to 64 or 128 tokens; grouped, most batches run at 16 or 32
 * (measured: 2.3 s per step at [32, 64] against 0.5–0.9 s at [32, 16]; bench/NOTES.md).
 */
export function bucketedBatches(key: Key, epoch: number, data: Cached, batchSize: number): number[][] {
  const order = epochOrder(key, epoch, data.labels.length);
  const buckets: number[][] = LENGTH_BUCKETS.map(() => []);
  for (const i of order) {
    const tokens = (data.rows[i] as Float32Array).length / 256;
    buckets[LENGTH_BUCKETS.findIndex((l) => l >= tokens)]?.push(i); // sentences are cut to 128 tokens
  }
  const batches: number[][] = [];
  let carry: number[] = [];
  for (const b of buckets) {
    const list = [...carry, ...b];
    const full = list.length - (list.length % batchSize);
    for (let s = 0; s < full; s += batchSize) batches.push(list.slice(s, s + batchSize));
    carry = list.slice(full);
  }
  if (carry.length > 0) batches.push(carry);
  const shuffle = prng.permutation(prng.fold(key, `batches-${epoch}`), batches.length);
  return Array.from(shuffle, (j) => batches[j] as number[]);
}

/** Indices 0..n-1 in a per-epoch random order (host PRNG, reproducible). */
export function epochOrder(key: Key, epoch: number, n: number): number[] {
  return Array.from(prng.permutation(prng.fold(key, `epoch-${epoch}`), n));
}
