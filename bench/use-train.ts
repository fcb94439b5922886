// Training throughput of the USE-lite LoRA finetune step, jitted (createJitTrainer) or eager
// (createTrainer): per-step wall times grouped by padded length, first call per shape separated
// from the warm ones. Usage:
//   node --import tsx bench/use-train.ts [jit|eager] [batch] [steps] [grouped|random]
import os from "node:os";
import * as prng from "../src/core/prng.ts";
import { disposeTree } from "../src/engine/index.ts";
import * as clf from "../src/models/use-lite/classifier.ts";
import { cacheExamples, taskData, withHead } from "../src/experiments/encoder/finetune.ts";
import { encoderLoraConfig } from "../src/experiments/encoder/spec.ts";
import { scaling } from "../src/lora/config.ts";
import { injectLora } from "../src/lora/inject.ts";
import { loadUseLite } from "../src/models/use-lite/index.ts";
import { adamw } from "../src/optim/index.ts";
import { createJitTrainer } from "../src/train/jit-trainer.ts";
import { createTrainer } from "../src/train/trainer.ts";

const mode = process.argv[2] ?? "jit";
const batch = Number(process.argv[3] ?? 32);
const steps = Number(process.argv[4] ?? 12);
const data = taskData({ task: "sentiment", seed: 0, limit: batch * steps });
const m = await loadUseLite();
const train = cacheExamples(m, data.train);
const cfg = encoderLoraConfig({ r: 8, loraAlpha: 8, init: "init-a" });
const inj = await injectLora(prng.key(1), withHead(m.params, 0, 2), cfg);
const ctx = clf.adapterContext(scaling(cfg));
const trainerOpts = {
  loss: (p: Parameters<typeof clf.logitsOf>[0], ...[x, mask, y, w]: ReturnType<typeof clf.oneHot>[]) =>
    clf.weightedCrossEntropy(clf.logitsOf(p, x!, mask!, m.constants, ctx), y!, w!),
  optimizer: adamw({ lr: 1e-3, weightDecay: 0.01 }),
  trainable: inj.trainable,
};
const trainer = mode === "eager" ? createTrainer(trainerOpts) : createJitTrainer(trainerOpts);
let state = trainer.init(inj.params);
const grouped = process.argv[5] !== "random";
const order = clf.epochOrder(prng.key(2), 0, train.labels.length);
const batches = grouped
  ? clf.bucketedBatches(prng.key(2), 0, train, batch)
  : [...Array(Math.ceil(order.length / batch)).keys()].map((k) => order.slice(k * batch, (k + 1) * batch));
const byL = new Map<number, number[]>();
const t0 = performance.now();
for (const idx of batches) {
  const { x, mask, weight } = clf.batchOf(train, idx, batch);
  const L = x.shape[1] as number;
  const t = performance.now();
  const out = await trainer.step(state, x, mask, clf.oneHot(train.labels, idx, 2, batch), weight);
  state = out.state;
  (byL.get(L) ?? byL.set(L, []).get(L)!).push(performance.now() - t);
}
const total = (performance.now() - t0) / 1000;
disposeTree(trainer.params(state));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const perL = Object.fromEntries(
  [...byL].map(([L, ts]) => [
    L,
    {
      first: Math.round(ts[0]!),
      warmMedian: Math.round(med(ts.slice(1))),
      warm: ts.length - 1,
      warmExPerSec: +(batch / (med(ts.slice(1)) / 1000)).toFixed(1),
    },
  ]),
);
console.log(
  JSON.stringify({
    mode,
    grouped,
    batch,
    steps,
    overallExPerSec: +(order.length / total).toFixed(2),
    perL,
    load: os.loadavg().map((v) => +v.toFixed(2)),
  }),
);
