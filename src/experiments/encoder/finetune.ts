// Finetune USE-lite for sentence classification with LoRA (Init[A], Init[B] or any scheme) and a new
// head `classifier` trained in full (PEFT modules_to_save), against a frozen-encoder linear probe.
//
// Randomness: root = key(seed); the split from fold(root, "split"), the --limit
// subsample from fold(root, "limit"), the head from fold(root, "classifier"), the adapter from
// fold(root, "adapter"), the batch order from fold(root, "order"). So runs that differ only in
// `init` share data, order, base model and head, and the adapter init is the only difference.
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import * as prng from "../../core/prng.ts";
import type { Key } from "../../core/prng.ts";
import { combine, type Params } from "../../core/tree.ts";
import { disposeTree, refTree, tensor } from "../../engine/index.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { saveAdapter } from "../../io/peft.ts";
import { scaling, type LoraConfig } from "../../lora/config.ts";
import { injectLora } from "../../lora/inject.ts";
import * as linear from "../../nn/linear.ts";
import {
  D_MODEL,
  embedSentence,
  encode,
  loadUseLite,
  loadUseLiteVocabulary,
  makeTokenizer,
  type UseLite,
} from "../../models/use-lite/index.ts";
import { adamw, linearSchedule, paramGroups } from "../../optim/index.ts";
import { loadSentiment, loadSpam, stratifiedSplit, type TextDataset, type TextExample } from "../../data/index.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";
import * as clf from "../../models/use-lite/classifier.ts";
import { linearProbe } from "./probe.ts";
import { dynamicsRecorder, type ModuleDynamics } from "./dynamics.ts";
import { ENCODER_TASKS, encoderLoraConfig, encoderSpec, type EncoderFinetuneSpec, type EncoderTask } from "./spec.ts";

export interface Metrics {
  readonly accuracy: number;
  readonly loss: number;
}

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

export interface EncoderFinetuneResult {
  readonly spec: EncoderFinetuneSpec;
  readonly lora: LoraConfig;
  readonly validation: Metrics;
  readonly test: Metrics;
  readonly probe: { readonly validation: Metrics; readonly test: Metrics };
  /** Training examples per second (every step, kernel compilation included). */
  readonly examplesPerSecond: number;
  /** Inference examples per second on the test split (its shapes already compiled by validation where shared). */
  readonly evalExamplesPerSecond: number;
  /** Peak resident memory of this process so far, MiB (a sweep worker's peak over its runs). */
  readonly peakRssMiB: number;
  readonly diverged: boolean;
  /**
   * Training ended with a finite loss but the model gives every validation example the same class
   * (validation holding more than one): it has lost what the encoder knew, e.g. at a learning rate
   * large enough to blow up without overflowing. Recorded as an outcome like `diverged`.
   */
  readonly collapsed: boolean;
  /** Training loss per step (a non-finite last entry marks the divergence). */
  readonly losses: number[];
  readonly splits: SplitInfo;
  readonly testPredictions: number[];
  readonly testLogits: number[][];
  readonly truncated: number;
  /** Per-module RMS(Z_A), RMS(Z_B), δ¹/δ²/δ³ at step 0, every `dynamicsEvery` steps and at the end. */
  readonly dynamics: ModuleDynamics[];
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

export function taskData(spec: Pick<EncoderFinetuneSpec, "task" | "seed" | "limit" | "evalLimit">): TaskData {
  const dataset = loadTask(spec.task);
  const root = prng.key(spec.seed);
  const fractions = { validation: 0.1, test: 0.1 };
  const s = stratifiedSplit(prng.fold(root, "split"), dataset.examples, dataset.labels.length, fractions);
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
      full: { train: s.sizes.train, validation: s.sizes.validation, test: s.sizes.test },
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

/**
 * Encoder params + a head [numLabels, 512]: new from fold(root, "classifier"), or a copy of `from`
 * (the probe's trained head). Consumes `encoder`.
 */
export function withHead(encoder: Params, seed: number, numLabels: number, from?: clf.HostLinear): Params {
  const classifier = from === undefined
    ? linear.init(prng.fold(prng.key(seed), "classifier"), D_MODEL, numLabels)
    : { weight: tensor(from.weight, [numLabels, D_MODEL]), bias: tensor(from.bias, [numLabels]) };
  return { ...encoder, classifier };
}

export type Progress = (line: string) => void;

/** The one line that says texts were cut to the encoder's 128 tokens (`perRun`: a sweep's maximum). */
export function truncationNote(count: number, perRun = false): string {
  const [texts, were] = count === 1 ? ["text", "was"] : ["texts", "were"];
  return `note: ${perRun ? "up to " : ""}${count} ${texts}${perRun ? " per run" : ""} ${were} longer than the encoder's 128 tokens and ${were} cut to their first 128`;
}

interface Prepared {
  readonly data: TaskData;
  /** Shared by every run of this process; runs take `refTree(model.params)`. */
  readonly model: UseLite;
  readonly train: clf.Cached;
  readonly val: clf.Cached;
  readonly test: clf.Cached;
  readonly truncated: number;
  readonly probe: { readonly validation: Metrics; readonly test: Metrics };
  readonly probeHead: clf.HostLinear;
  readonly probeSeconds: number;
}

let sharedModel: Promise<UseLite> | undefined;
const preparedTasks = new Map<string, Promise<Prepared>>();

/**
 * The frozen side of a run, computed once per process and data spec: the encoder, the tokenized
 * and embedded host rows of each split, and the linear probe (it depends only on the data and the
 * seed). A sweep worker running several learning rates and inits of one seed pays for it once.
 * Only the latest data spec is kept: sweep jobs go out seed-major, so a worker is done with a seed
 * when the next one arrives. Keeping them all grew a worker by ~70 MiB a seed (one worker, four
 * seeds of sentiment: peak 2,045 → 2,253 MiB; keeping the latest: 2,042 → 2,122 MiB, same results).
 */
function prepareTask(spec: EncoderFinetuneSpec): Promise<Prepared> {
  const key = JSON.stringify([spec.task, spec.seed, spec.limit ?? null, spec.evalLimit ?? null, spec.batch]);
  let p = preparedTasks.get(key);
  if (p === undefined) {
    preparedTasks.clear();
    p = (async () => {
      const model = await (sharedModel ??= loadUseLite());
      const data = taskData(spec);
      const numLabels = data.dataset.labels.length;
      const [train, val, test] = [data.train, data.validation, data.test].map((e) => cacheExamples(model, e)) as [
        ReturnType<typeof cacheExamples>,
        ReturnType<typeof cacheExamples>,
        ReturnType<typeof cacheExamples>,
      ];
      // Baseline: the frozen encoder's embeddings and a linear head trained on them.
      const t0 = performance.now();
      const embs: Float32Array[] = [];
      for (const d of [train, val, test]) embs.push(await clf.embedAll(model.params, d, model.constants, spec.batch));
      const [eTrain, eVal, eTest] = embs as [Float32Array, Float32Array, Float32Array];
      const probeRun = await linearProbe(
        prng.fold(prng.key(spec.seed), "classifier"),
        { emb: eTrain, labels: train.labels },
        [eVal, eTest],
        numLabels,
      );
      const pv = clf.summarize(probeRun.logits[0] as number[][], val.labels);
      const pt = clf.summarize(probeRun.logits[1] as number[][], test.labels);
      return {
        data,
        model,
        train,
        val,
        test,
        truncated: train.truncated + val.truncated + test.truncated,
        probe: { validation: { accuracy: pv.accuracy, loss: pv.loss }, test: { accuracy: pt.accuracy, loss: pt.loss } },
        probeHead: probeRun.head,
        probeSeconds: (performance.now() - t0) / 1000,
      };
    })();
    preparedTasks.set(key, p);
  }
  return p;
}

/** Finetune, evaluate, probe; write the adapter and run.json to `outDir` when given. */
export async function runEncoderFinetune(
  spec: EncoderFinetuneSpec,
  outDir?: string,
  progress: Progress = () => {},
): Promise<EncoderFinetuneResult> {
  spec = encoderSpec(spec);
  const cfg = encoderLoraConfig(spec);
  const { data, model, train, val, test, truncated, probe, probeHead, probeSeconds } = await prepareTask(spec);
  const numLabels = data.dataset.labels.length;
  if (truncated > 0) progress(truncationNote(truncated));
  progress(`${spec.task}: train ${train.labels.length}, validation ${val.labels.length}, test ${test.labels.length}`);
  const pv = probe.validation;
  const pt = probe.test;
  progress(
    `probe: validation accuracy ${pv.accuracy.toFixed(4)}, test accuracy ${pt.accuracy.toFixed(4)} (${probeSeconds.toFixed(1)} s)`,
  );
  const root = prng.key(spec.seed);

  // Finetune: LoRA on the encoder, the head in full.
  const inj = await injectLora(
    prng.fold(root, "adapter"),
    withHead(refTree(model.params), spec.seed, numLabels, spec.headInit === "probe" ? probeHead : undefined),
    cfg,
  );
  for (const w of inj.warnings) progress(`warning: ${w}`);
  const ctx = clf.adapterContext(scaling(cfg));
  const n = train.labels.length;
  const stepsPerEpoch = Math.ceil(n / spec.batch);
  const totalSteps = stepsPerEpoch * spec.epochs;
  const warmupSteps = Math.floor(spec.warmupFraction * totalSteps);
  const schedule = (lr: number) => linearSchedule({ lr, warmupSteps, totalSteps });
  const optimizer = paramGroups({
    optimizer: (h: { lr: number }) => adamw({ lr: schedule(h.lr), weightDecay: spec.weightDecay }),
    defaults: { lr: spec.lr },
    groups: { adapter: {}, head: { lr: spec.headLr } },
    label: (p) => (p.startsWith("classifier.") ? "head" : "adapter"),
  });
  // One jitted step per [batch, bucket] shape (at most 4 traces); the last batch of an epoch is
  // padded to the full batch size with weight-0 rows instead of compiling a new shape.
  const trainer = createJitTrainer({
    loss: (p, x, mask, y, w) => clf.weightedCrossEntropy(clf.logitsOf(p, x, mask, model.constants, ctx), y, w),
    optimizer,
    trainable: inj.trainable,
  });
  // Measured before training, every `dynamicsEvery` steps, and after the last step.
  const recorder =
    spec.dynamicsEvery > 0 ? dynamicsRecorder(val, spec.batch, model.constants, scaling(cfg)) : undefined;
  const dynamics: ModuleDynamics[] = [];
  const measure = async (params: Params, step: number): Promise<void> => {
    if (recorder !== undefined && dynamics.at(-1)?.step !== step)
      dynamics.push(...(await recorder.record(step, params)));
  };
  await measure(inj.params, 0);
  let state = trainer.init(inj.params);
  const losses: number[] = [];
  let diverged = false;
  let tTrain = performance.now();
  let seen = 0;
  outer: for (let epoch = 0; epoch < spec.epochs; epoch++) {
    for (const idx of clf.bucketedBatches(prng.fold(root, "order"), epoch, train, spec.batch)) {
      const { x, mask, weight } = clf.batchOf(train, idx, spec.batch);
      const out = await trainer.step(state, x, mask, clf.oneHot(train.labels, idx, numLabels, spec.batch), weight);
      state = out.state;
      losses.push(out.loss);
      seen += idx.length;
      if (spec.dynamicsEvery > 0 && state.step % spec.dynamicsEvery === 0 && Number.isFinite(out.loss)) {
        const t = performance.now();
        await measure(combine(state.trainable, state.frozen), state.step);
        tTrain += performance.now() - t; // measuring is not training time
      }
      if (!Number.isFinite(out.loss)) {
        diverged = true;
        progress(`diverged: loss ${out.loss} at step ${state.step}`);
        break outer;
      }
      if (state.step % 5 === 0 || state.step === totalSteps) {
        const secs = (performance.now() - tTrain) / 1000;
        progress(
          `step ${state.step}/${totalSteps} epoch ${epoch + 1} loss ${out.loss.toFixed(4)} (${(seen / secs).toFixed(1)} ex/s)`,
        );
      }
    }
  }
  const examplesPerSecond = seen / ((performance.now() - tTrain) / 1000);
  const params = trainer.params(state);
  if (!diverged) await measure(params, state.step);
  const ev = await clf.evaluate(params, val, numLabels, model.constants, ctx, spec.batch);
  const tEval = performance.now();
  const et = await clf.evaluate(params, test, numLabels, model.constants, ctx, spec.batch);
  const evalExamplesPerSecond = test.labels.length / ((performance.now() - tEval) / 1000);
  progress(`finetuned: validation accuracy ${ev.accuracy.toFixed(4)}, test accuracy ${et.accuracy.toFixed(4)}`);
  const collapsed = !diverged && new Set(ev.predictions).size === 1 && new Set(val.labels).size > 1;
  if (collapsed)
    progress(
      `collapsed: every validation example is predicted as "${data.dataset.labels[ev.predictions[0] as number]}"`,
    );

  const result: EncoderFinetuneResult = {
    spec,
    lora: cfg,
    validation: { accuracy: ev.accuracy, loss: ev.loss },
    test: { accuracy: et.accuracy, loss: et.loss },
    probe,
    examplesPerSecond,
    evalExamplesPerSecond,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
    diverged,
    collapsed,
    losses,
    splits: data.splits,
    testPredictions: et.predictions,
    testLogits: et.logits,
    truncated,
    dynamics,
  };
  if (outDir !== undefined) {
    await saveAdapter(outDir, params, cfg, { base_model_name_or_path: "use-lite", task_type: "SEQ_CLS" });
    await writeFileAtomic(path.join(outDir, RUN_FILE), JSON.stringify({ model: "use-lite", ...result }) + "\n");
    progress(`saved the adapter and ${RUN_FILE} in ${outDir}`);
  }
  disposeTree(params);
  return result;
}

export const RUN_FILE = "run.json";
