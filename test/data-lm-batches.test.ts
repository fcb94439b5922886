// [B, T] batches for a causal LM: the mask marks exactly the predicted tokens, shapes come from a
// small fixed set, training order is a deterministic per-epoch shuffle, evaluation keeps order,
// and token-weighted losses combine exactly.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as prng from "../src/core/prng.ts";
import { combineTokenLosses, evalBatches, makeBatch, maskedTokenLoss, padLengths, trainBatches } from "../src/data/lm-batches.ts";

const PAD = 0;
const seq = (n: number, start: number) => Int32Array.from({ length: n }, (_, i) => start + i);

test("padLengths: seqLen and its halves down to an eighth, at least 2", () => {
  assert.deepEqual(padLengths(256), [32, 64, 128, 256]);
  assert.deepEqual(padLengths(10), [2, 3, 5, 10]);
  assert.deepEqual(padLengths(2), [2]);
});

test("makeBatch: ids padded, mask 1 exactly on real tokens after the first, empty rows all padding", () => {
  const b = makeBatch([seq(3, 10), seq(5, 20)], { batchSize: 3, padId: PAD, lengths: padLengths(8) });
  assert.equal(b.length, 8, "longest row 5 → the allowed length 8");
  assert.deepEqual(Array.from(b.ids), [10, 11, 12, 0, 0, 0, 0, 0, 20, 21, 22, 23, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.mask), [0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(b.predicted, 2 + 4);
  assert.equal(b.rows, 2);
  assert.equal(makeBatch([seq(2, 1)], { batchSize: 1, padId: PAD, lengths: padLengths(8) }).length, 2);
  assert.throws(() => makeBatch([seq(9, 1)], { batchSize: 1, padId: PAD, lengths: padLengths(8) }), /longer than every allowed length/);
});

test("trainBatches: every sequence once per epoch, same key and epoch same order, epochs differ", () => {
  const seqs = Array.from({ length: 37 }, (_, i) => seq(2 + (i % 7), 100 * i));
  const options = { batchSize: 8, padId: PAD, lengths: padLengths(8) };
  const key = prng.fold(prng.key(3), "data");
  const firsts = (bs: ReturnType<typeof trainBatches>) =>
    bs.flatMap((b) => Array.from({ length: b.rows }, (_, r) => b.ids[r * b.length] as number));
  const e0 = trainBatches(key, 0, seqs, options);
  assert.equal(e0.length, 5);
  assert.ok(e0.every((b) => b.batchSize === 8 && [2, 4, 8].includes(b.length)));
  assert.deepEqual([...firsts(e0)].sort((a, b) => a - b), seqs.map((s) => s[0]));
  assert.deepEqual(firsts(trainBatches(key, 0, seqs, options)), firsts(e0));
  assert.notDeepEqual(firsts(trainBatches(key, 1, seqs, options)), firsts(e0));
  assert.notDeepEqual(firsts(trainBatches(prng.key(4), 0, seqs, options)), firsts(e0));
  assert.notDeepEqual(firsts(e0), seqs.map((s) => s[0]), "shuffled");
  assert.equal(e0.reduce((n, b) => n + b.predicted, 0), seqs.reduce((n, s) => n + s.length - 1, 0));
  assert.throws(() => trainBatches(key, 0, seqs, { ...options, batchSize: 0 }), /batch size must be a positive integer/);
});

test("evalBatches: the given order, every sequence once, a short last batch padded with empty rows", () => {
  const seqs = Array.from({ length: 5 }, (_, i) => seq(3 + i, 10 * i));
  const bs = evalBatches(seqs, { batchSize: 2, padId: PAD, lengths: [4, 8] });
  assert.deepEqual(bs.map((b) => [b.rows, b.length]), [[2, 4], [2, 8], [1, 8]]);
  const firsts = bs.flatMap((b) => Array.from({ length: b.rows }, (_, r) => b.ids[r * b.length]));
  assert.deepEqual(firsts, [0, 10, 20, 30, 40]);
  assert.equal(bs[2]?.ids.length, 2 * 8);
});

test("token-weighted loss: the mean over predicted tokens, combined across batches exactly", () => {
  // Two batches of very different fill: per-token losses chosen so a mean over rows would differ.
  const seqs = [seq(8, 1), seq(2, 1), seq(3, 1)];
  const options = { batchSize: 2, padId: PAD, lengths: [8] };
  const [b1, b2] = evalBatches(seqs, options);
  assert.ok(b1 !== undefined && b2 !== undefined);
  // Masked positions are poisoned.
  const lossOf = (b: typeof b1) =>
    Float32Array.from(b.ids, (id, i) => (i % b.length) + id * 0.5 + 1000 * (1 - (b.mask[i] as number)));
  const l1 = maskedTokenLoss(lossOf(b1), b1.mask);
  const l2 = maskedTokenLoss(lossOf(b2), b2.mask);
  assert.equal(l1.count, 7 + 1);
  assert.equal(l2.count, 2);
  // Direct mean over all 10 predicted tokens (position t, id t+1): t + (t + 1) / 2.
  const per = (n: number) => Array.from({ length: n - 1 }, (_, i) => i + 1 + (i + 2) / 2);
  const all = [...per(8), ...per(2), ...per(3)];
  const combined = combineTokenLosses([l1, l2]);
  assert.equal(combined.count, 10);
  assert.ok(Math.abs(combined.mean - all.reduce((a, b) => a + b) / all.length) < 1e-6);
  const meanOfMeans = (l1.mean + l2.mean) / 2;
  assert.ok(Math.abs(meanOfMeans - combined.mean) > 0.1, "the batch mean of means is not the token mean");
  assert.deepEqual(maskedTokenLoss(new Float32Array(4), new Float32Array(4)), { mean: 0, count: 0 });
  assert.ok(Number.isNaN(combineTokenLosses([]).mean));
});
