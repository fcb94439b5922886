// USE-lite as a sentence classifier: the encoder (LoRA-adapted or not) followed by a new linear head
// `classifier` [numLabels, 512], plus what finetuning and evaluation need around it — padded batches
// in fixed length buckets, cross-entropy, exact evaluation in a fixed order, and the frozen-encoder
// linear probe (the baseline a finetune has to beat).
import type { Params } from "../core/tree.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { disposeTree, jnn, np, read, refTree, tensor, valueAndGrad, type Tensor } from "../engine/index.ts";
import { context as loraContext } from "../lora/linear.ts";
import { at, type Ctx } from "../nn/context.ts";
import * as linear from "../nn/linear.ts";
import { apply as encode, packBatch, D_MODEL, type UseLiteConstants } from "../models/use-lite/index.ts";
import { adamw, applyUpdates } from "../optim/index.ts";

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

/** x [B, L, 256], mask [B, L] of the chosen sentences, padded to their bucket (owned tensors). */
export function batchOf(data: Cached, indices: readonly number[]): { x: Tensor; mask: Tensor } {
  const rows = indices.map((i) => data.rows[i] as Float32Array);
  const longest = Math.max(1, ...rows.map((r) => r.length / 256));
  return packBatch(rows, bucketFor(longest));
}

/** Host copy of a tensor, which is then released (`read` itself borrows). */
async function take(t: Tensor): Promise<Float32Array> {
  const data = await read(t);
  t.dispose();
  return data;
}

/** One-hot labels [B, C] (owned). */
export function oneHot(labels: readonly number[], indices: readonly number[], numLabels: number): Tensor {
  const out = new Float32Array(indices.length * numLabels);
  indices.forEach((i, b) => (out[b * numLabels + (labels[i] as number)] = 1));
  return tensor(out, [indices.length, numLabels]);
}

/** Mean cross-entropy −Σ y·log softmax(z) over a batch. Consumes both. logits, target [B, C]. */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  return np.negative(target.mul(jnn.logSoftmax(logits, -1)).sum(-1).mean()); // [B, C] → [B] → []
}

/**
 * Logits [B, C] of a batch. `params` = {layers, pooler, classifier}, consumed with the batch.
 * `ctx` is the LoRA context (`lora.context({ scaling })`) or undefined for a model without factors.
 */
export function logitsOf(params: Params, x: Tensor, mask: Tensor, constants: UseLiteConstants, ctx: Ctx | undefined): Tensor {
  const { classifier, ...encoder } = params;
  if (classifier === undefined || !("weight" in classifier)) throw new Error('the classifier params lack the module "classifier"');
  const emb = encode(encoder, { x, mask }, constants, ctx); // [B, 512]
  return linear.apply(classifier as Params, emb, at(ctx, "classifier")); // [B, C]
}

/** The LoRA context of a scaling s; plain linear maps elsewhere. */
export function adapterContext(scaling: number): Ctx {
  return loraContext({ scaling });
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
 * formed in a fixed order (sentences sorted by length, ties by index) so that the same params on the
 * same data give bit-identical logits, whoever calls it.
 */
export async function evaluate(
  params: Params,
  data: Cached,
  numLabels: number,
  constants: UseLiteConstants,
  ctx: Ctx | undefined,
  batchSize: number,
): Promise<Evaluation> {
  const n = data.labels.length;
  const order = [...Array(n).keys()].sort((a, b) => (data.rows[a] as Float32Array).length - (data.rows[b] as Float32Array).length || a - b);
  const logits: number[][] = new Array<number[]>(n);
  for (let s = 0; s < n; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const { x, mask } = batchOf(data, idx);
    const z = await take(logitsOf(refTree(params), x, mask, constants, ctx)); // [B, C]
    idx.forEach((i, b) => (logits[i] = Array.from(z.subarray(b * numLabels, (b + 1) * numLabels))));
  }
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
export async function embedAll(encoderParams: Params, data: Cached, constants: UseLiteConstants, batchSize: number): Promise<Float32Array> {
  const n = data.labels.length;
  const out = new Float32Array(n * D_MODEL);
  for (let s = 0; s < n; s += batchSize) {
    const idx = [...Array(Math.min(batchSize, n - s)).keys()].map((k) => s + k);
    const { x, mask } = batchOf(data, idx);
    out.set(await take(encode(refTree(encoderParams), { x, mask }, constants)), s * D_MODEL); // [B, 512]
  }
  return out;
}

export interface ProbeOptions {
  readonly lr: number;
  readonly steps: number;
  readonly weightDecay: number;
}

export const PROBE_DEFAULTS: ProbeOptions = { lr: 1e-2, steps: 300, weightDecay: 1e-2 };

/**
 * Linear probe: train only a head [C, 512] on cached frozen embeddings, full batch, with AdamW.
 * The head starts from `key` like the finetune's head, so the two share their starting point.
 * Returns host logits per split (for `summarize`).
 */
export async function linearProbe(
  key: Key,
  train: { emb: Float32Array; labels: readonly number[] },
  evalSets: ReadonlyArray<Float32Array>,
  numLabels: number,
  opts: ProbeOptions = PROBE_DEFAULTS,
): Promise<{ logits: number[][][]; finalLoss: number }> {
  const n = train.labels.length;
  const all = [...Array(n).keys()];
  let head: Params = linear.init(key, D_MODEL, numLabels);
  const opt = adamw({ lr: opts.lr, weightDecay: opts.weightDecay });
  let state = opt.init(head);
  const x = tensor(train.emb, [n, D_MODEL]);
  const y = oneHot(train.labels, all, numLabels);
  let finalLoss = NaN;
  for (let step = 0; step < opts.steps; step++) {
    const lossOf = (p: Params): Tensor => crossEntropy(linear.apply(p, x.ref), y.ref); // [n, 512] → [n, C]
    const [loss, grads] = valueAndGrad(lossOf)(refTree(head));
    const [updates, next] = opt.update(grads, state, head, step);
    head = applyUpdates(head, updates);
    state = next;
    finalLoss = (await take(loss))[0] as number; // also flushes this step's lazy work
  }
  x.dispose();
  y.dispose();
  disposeTree(state);
  const logits: number[][][] = [];
  for (const emb of evalSets) {
    const m = emb.length / D_MODEL;
    const z = await take(linear.apply(refTree(head), tensor(emb, [m, D_MODEL]))); // [m, 512] → [m, C]
    logits.push([...Array(m).keys()].map((i) => Array.from(z.subarray(i * numLabels, (i + 1) * numLabels))));
  }
  disposeTree(head);
  return { logits, finalLoss };
}

/** Indices 0..n-1 in a per-epoch random order (host PRNG, reproducible). */
export function epochOrder(key: Key, epoch: number, n: number): number[] {
  return Array.from(prng.permutation(prng.fold(key, `epoch-${epoch}`), n));
}
