// The training part of an encoder finetune on the shared loop (train/loop.ts): the jitted step with
// its batch and dropout keys derived from the step number (so a resumed run replays the same
// batches and masks), validation on the loop's cadence, early stopping that keeps the best adapter,
// the per-module dynamics into metrics.jsonl, and OUT/checkpoint for `finetune --resume`.
import * as prng from "../../core/prng.ts";
import type { Key } from "../../core/prng.ts";
import { UserError } from "../../core/errors.ts";
import { combine, flatten, unflatten, type Params } from "../../core/tree.ts";
import { disposeTree, random, read, tensor, type Tensor } from "../../engine/index.ts";
import { scaling, type LoraConfig } from "../../lora/config.ts";
import { context as loraContext } from "../../lora/linear.ts";
import * as clf from "../../models/use-lite/classifier.ts";
import type { UseLiteConstants } from "../../models/use-lite/index.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";
import type { TrainState } from "../../train/trainer.ts";
import { finetuneOptimizer, scheduleOf } from "../../train/optimizer.ts";
import { runLoop, type LoopState } from "../../train/loop.ts";
import { nullSink, openMetrics, type MetricsSink } from "../../train/metrics.ts";
import { checkpointing, resumeRun, type RunCheckpointMeta } from "../resume.ts";
import { dynamicsRecorder, type ModuleDynamics } from "./dynamics.ts";
import type { EncoderFinetuneSpec } from "./spec.ts";

export interface TrainingOptions {
  /** Where metrics.jsonl and the checkpoint go (none: nothing is written). */
  readonly outDir?: string;
  /** Continue OUT's checkpoint. */
  readonly resume?: boolean;
  /** Checkpoint every this many steps; absent: every minute (only with an outDir). */
  readonly checkpointEvery?: number;
}

export interface TrainingResult {
  /** The trained (or, with early stopping, the best) parameters, whole tree; owned. */
  readonly params: Params;
  readonly losses: number[];
  readonly dynamics: ModuleDynamics[];
  readonly diverged: boolean;
  readonly stoppedEarly: boolean;
  /** Step of the best validation loss (-1 without evaluations). */
  readonly bestStep: number;
  /** "best" when early stopping is on (the adapter of bestStep), else "final". */
  readonly kept: "best" | "final";
  readonly steps: number;
  /** Steps run by this process and their examples (a resumed run counts only its own). */
  readonly seen: number;
  readonly trainSeconds: number;
  readonly resumedFrom?: number;
}

/** The encoder's checkpoint meta: where the batch order was (for a reader of the checkpoint). */
interface CheckpointMeta extends RunCheckpointMeta {
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly orderKey: Key;
}

/** A u32 seed for the device PRNG from a host key (dropout masks are drawn on the device inside jit). */
const deviceSeed = (k: Key): number => k.lo;

export async function trainEncoder(
  spec: EncoderFinetuneSpec,
  cfg: LoraConfig,
  data: { train: clf.Cached; val: clf.Cached; numLabels: number; constants: UseLiteConstants },
  inj: { params: Params; trainable: (path: string) => boolean },
  progress: (line: string) => void,
  opts: TrainingOptions = {},
): Promise<TrainingResult> {
  const { train, val, numLabels, constants } = data;
  const root = prng.key(spec.seed);
  const s = scaling(cfg);
  const ctx = clf.adapterContext(s);
  const stepsPerEpoch = Math.ceil(train.labels.length / spec.batch);
  const totalSteps = stepsPerEpoch * spec.epochs;
  const optOptions = {
    schedule: spec.schedule,
    warmupSteps: spec.warmupSteps ?? Math.floor(spec.warmupFraction * totalSteps),
    weightDecay: spec.weightDecay,
    ...(spec.gradClip === undefined ? {} : { gradClip: spec.gradClip }),
    ...(spec.loraplusLrRatio === undefined ? {} : { loraplusLrRatio: spec.loraplusLrRatio }),
  };
  const optimizer = finetuneOptimizer(optOptions, spec.lr, totalSteps, [{ name: "head", prefix: "classifier.", lr: spec.headLr }]);
  const lrAt = scheduleOf(optOptions, spec.lr, totalSteps);
  // LoRA modules in path order: the dropout keys ride along with the batch in this order.
  const modules = flatten(inj.params).filter(([p]) => p.endsWith(".lora_A.weight")).map(([p]) => p.slice(0, -".lora_A.weight".length));
  const rate = cfg.lora_dropout;
  const trainer = createJitTrainer({
    loss: (p, x, mask, y, w, ...keys) => {
      const byPath = new Map(modules.map((m, i) => [m, keys[i]]));
      const c = rate > 0 ? loraContext({ scaling: s, dropout: rate, deviceKeys: (m) => byPath.get(m) }) : ctx;
      return clf.weightedCrossEntropy(clf.logitsOf(p, x, mask, constants, c), y, w);
    },
    optimizer,
    trainable: inj.trainable,
  });
  const orderKey = prng.fold(root, "order");
  const dropoutKey = prng.fold(root, "dropout");
  const epochBatches = new Map<number, number[][]>();
  const batchAt = (t: number): number[] => {
    const epoch = Math.floor(t / stepsPerEpoch);
    let b = epochBatches.get(epoch);
    if (b === undefined) {
      epochBatches.clear();
      b = clf.bucketedBatches(orderKey, epoch, train, spec.batch);
      epochBatches.set(epoch, b);
    }
    return b[t % stepsPerEpoch] as number[];
  };

  const recorder = spec.dynamicsEvery > 0 ? dynamicsRecorder(val, spec.batch, constants, s) : undefined;
  const dynamics: ModuleDynamics[] = [];
  let sink: MetricsSink = nullSink;
  const measure = async (params: Params, step: number): Promise<void> => {
    if (recorder === undefined || dynamics.at(-1)?.step === step) return;
    const rows = await recorder.record(step, params);
    dynamics.push(...rows);
    sink.write({ step, dynamics: rows.map(({ step: _s, ...r }) => r) });
  };

  // Start: fresh, or the checkpoint's tensors in a fresh run's shapes.
  const fresh = trainer.init(inj.params);
  let state: TrainState = fresh;
  let start: { step: number; loop: LoopState } | undefined;
  const losses: number[] = [];
  let best: Map<string, Float32Array> | undefined;
  const specText = JSON.stringify(spec);
  const out = opts.outDir;
  if (opts.resume === true) {
    if (out === undefined) throw new UserError("the run has no checkpoint to resume");
    const r = await resumeRun(out, fresh, specText, recorder);
    ({ state, start, best, sink } = r);
    losses.push(...r.losses);
    dynamics.push(...r.dynamics);
    progress(`resuming ${out} at step ${r.start.step}/${totalSteps}`);
  } else {
    if (out !== undefined) sink = openMetrics(out);
    await measure(combine(state.trainable, state.frozen), 0);
  }

  let seen = 0;
  let tTrain = performance.now();
  const keep = async (st: TrainState): Promise<Map<string, Float32Array>> =>
    new Map(await Promise.all(flatten(st.trainable).map(async ([p, t]) => [p, await read(t)] as const)));
  try {
    const r = await runLoop<TrainState>(
      {
        totalSteps,
        step: async (st, t) => {
          const idx = batchAt(t);
          const { x, mask, weight } = clf.batchOf(train, idx, spec.batch);
          const tk = prng.fold(dropoutKey, t);
          const keys: Tensor[] = rate > 0 ? modules.map((m) => random.key(deviceSeed(prng.fold(tk, m)))) : [];
          const y = clf.oneHot(train.labels, idx, numLabels, spec.batch);
          const o = await trainer.stepWithNorm(st, x, mask, y, weight, ...keys);
          seen += idx.length;
          const done = t + 1;
          if (!Number.isFinite(o.loss)) progress(`diverged: loss ${o.loss} at step ${done}`);
          else if (done % 5 === 0 || done === totalSteps) {
            const secs = (performance.now() - tTrain) / 1000;
            progress(`step ${done}/${totalSteps} epoch ${Math.floor(t / stepsPerEpoch) + 1} loss ${o.loss.toFixed(4)} (${(seen / secs).toFixed(1)} ex/s)`);
          }
          return { state: o.state, loss: o.loss, lr: lrAt(t) as number, gradNorm: o.gradNorm };
        },
        afterStep: async (st, _o, step) => {
          if (spec.dynamicsEvery > 0 && step % spec.dynamicsEvery === 0) {
            const t = performance.now();
            await measure(combine(st.trainable, st.frozen), step);
            tTrain += performance.now() - t; // measuring is not training time
          }
        },
        evaluate: async (st) => {
          const t = performance.now();
          const ev = await clf.evaluate(combine(st.trainable, st.frozen), val, numLabels, constants, ctx, spec.batch);
          tTrain += performance.now() - t;
          return { loss: ev.loss, accuracy: ev.accuracy };
        },
        evalEvery: spec.evalEvery ?? stepsPerEpoch,
        watch: { key: "loss", mode: "min" },
        ...(spec.earlyStopPatience === undefined ? {} : { patience: spec.earlyStopPatience }),
        ...(spec.earlyStopPatience === undefined
          ? {}
          : { onBest: async (st: TrainState) => void (best = await keep(st)) }),
        ...(out === undefined
          ? {}
          : {
              checkpoint: checkpointing(out, opts.checkpointEvery, specText, {
                recorder,
                best: () => best,
                meta: (step): Omit<CheckpointMeta, keyof RunCheckpointMeta> => ({
                  epoch: Math.floor(step / stepsPerEpoch),
                  batchInEpoch: step % stepsPerEpoch,
                  orderKey,
                }),
              }),
            }),
        sink,
        ...(start === undefined ? {} : { start }),
      },
      state,
    );
    losses.push(...r.losses);
    const trainSeconds = (performance.now() - tTrain) / 1000;
    const kept = spec.earlyStopPatience === undefined || best === undefined ? "final" : "best";
    let trainable = r.state.trainable;
    if (kept === "best" && best !== undefined) {
      // The adapter of the best evaluation replaces the last one (same paths, same shapes).
      const shapes = new Map(flatten(trainable).map(([p, t]) => [p, [...t.shape]]));
      disposeTree(trainable);
      trainable = unflatten([...best].map(([p, v]) => [p, tensor(v, shapes.get(p) ?? [v.length])] as const));
    }
    const params = trainer.params({ ...r.state, trainable });
    if (!r.diverged) await measure(params, r.steps);
    return {
      params,
      losses,
      dynamics,
      diverged: r.diverged,
      stoppedEarly: r.stoppedEarly,
      bestStep: r.bestStep,
      kept,
      steps: r.steps,
      seen,
      trainSeconds,
      ...(start === undefined ? {} : { resumedFrom: start.step }),
    };
  } finally {
    sink.close();
  }
}
