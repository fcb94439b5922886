// The linear probe: the frozen encoder's sentence embeddings with only a new head trained on them,
// the baseline a finetune has to beat.
import type { Key } from "../../core/prng.ts";
import { blockUntilReady, disposeTree, read, readAndDispose, refTree, tensor, type Tensor } from "../../engine/index.ts";
import * as linear from "../../nn/linear.ts";
import { crossEntropy, oneHot, type HostLinear } from "../../models/use-lite/classifier.ts";
import { D_MODEL } from "../../models/use-lite/index.ts";
import { adamw } from "../../optim/index.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";

export interface ProbeOptions {
  readonly lr: number;
  readonly steps: number;
  readonly weightDecay: number;
}

export const PROBE_DEFAULTS: ProbeOptions = { lr: 1e-2, steps: 300, weightDecay: 1e-2 };

/**
 * Linear probe: train only a head [C, 512] on cached frozen embeddings, full batch, with AdamW.
 * The head starts from `key` like the finetune's head, so the two share their starting point.
 * Returns host logits per split (for `summarize`) and the trained head on the host (a finetune may
 * start from it: `--head-init probe`).
 */
export async function linearProbe(
  key: Key,
  train: { emb: Float32Array; labels: readonly number[] },
  evalSets: ReadonlyArray<Float32Array>,
  numLabels: number,
  opts: ProbeOptions = PROBE_DEFAULTS,
): Promise<{ logits: number[][][]; finalLoss: number; head: HostLinear }> {
  const n = train.labels.length;
  const all = [...Array(n).keys()];
  // Full batch, one jitted step traced once; the loss is read only after the last step.
  const trainer = createJitTrainer({
    loss: (p, x, y) => crossEntropy(linear.apply(p, x), y), // [n, 512] → [n, C]
    optimizer: adamw({ lr: opts.lr, weightDecay: opts.weightDecay }),
    trainable: () => true,
  });
  let state = trainer.init(linear.init(key, D_MODEL, numLabels));
  const x = tensor(train.emb, [n, D_MODEL]);
  const y = oneHot(train.labels, all, numLabels);
  let last: Tensor | undefined;
  for (let step = 0; step < opts.steps; step++) {
    last?.dispose();
    const out = trainer.stepLazy(state, x.ref, y.ref);
    state = out.state;
    last = out.loss;
    // Wait for the step's kernels (no host copy): left unflushed, jax-js's pending work grows with
    // every step and 300 steps took 5 s instead of ~0.3 s.
    await blockUntilReady(last);
  }
  const finalLoss = last === undefined ? NaN : (await readAndDispose(last))[0] as number;
  x.dispose();
  y.dispose();
  const head = trainer.params(state);
  const logits: number[][][] = [];
  for (const emb of evalSets) {
    const m = emb.length / D_MODEL;
    const z = await readAndDispose(linear.apply(refTree(head), tensor(emb, [m, D_MODEL]))); // [m, 512] → [m, C]
    logits.push([...Array(m).keys()].map((i) => Array.from(z.subarray(i * numLabels, (i + 1) * numLabels))));
  }
  const host = { weight: await read(head["weight"] as Tensor), bias: await read(head["bias"] as Tensor) };
  disposeTree(head);
  return { logits, finalLoss, head: host };
}
