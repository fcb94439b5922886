// Finetune USE-lite for sentence classification with LoRA (Init[A], Init[B] or any scheme) and a new
// head `classifier` trained in full (PEFT modules_to_save), against a frozen-encoder linear probe.
//
// Randomness: root = key(seed); the split from fold(root, "split") (a --data folder keeps its own), the --limit
// subsample from fold(root, "limit"), the head from fold(root, "classifier"), the adapter from
// fold(root, "adapter"), the batch order from fold(root, "order"). So runs that differ only in
// `init` share data, order, base model and head, and the adapter init is the only difference.
import path from "node:path";
import * as prng from "../../core/prng.ts";
import type { Params } from "../../core/tree.ts";
import { disposeTree, refTree, tensor } from "../../engine/index.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { finiteJson } from "../../io/finite-json.ts";
import { saveAdapter } from "../../io/peft.ts";
import { scaling, type LoraConfig } from "../../lora/config.ts";
import { injectLora } from "../../lora/inject.ts";
import * as linear from "../../nn/linear.ts";
import { D_MODEL, loadUseLite, type UseLite } from "../../models/use-lite/index.ts";
import { removeCheckpoint } from "../../train/checkpoint.ts";
import * as clf from "../../models/use-lite/classifier.ts";
import { linearProbe } from "./probe.ts";
import type { ModuleDynamics } from "./dynamics.ts";
import { cacheExamples, taskData, type SplitInfo, type TaskData } from "./data.ts";
import { trainEncoder, type TrainingOptions } from "./training.ts";
import { dataName, encoderLoraConfig, encoderSpec, type EncoderFinetuneSpec } from "./spec.ts";

export { cacheExamples, taskData, type SplitInfo, type TaskData } from "./data.ts";

export interface Metrics {
  readonly accuracy: number;
  readonly loss: number;
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
  /** Early stopping ended the run before its last step. */
  readonly stoppedEarly: boolean;
  /** Step of the lowest validation loss among the evaluations (-1: none). */
  readonly bestStep: number;
  /** Which adapter was saved and evaluated: "best" (early stopping on: the adapter of bestStep) or "final". */
  readonly savedAdapter: "best" | "final";
  /** Updates applied. */
  readonly steps: number;
  /** Class names; predictions index this list (a --data folder's labels, sorted). */
  readonly labels: readonly string[];
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
  const key = JSON.stringify([
    spec.task ?? null, spec.data ?? null, spec.seed, spec.limit ?? null, spec.evalLimit ?? null, spec.batch,
  ]);
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

/** Finetune, evaluate, probe; write the adapter, run.json and metrics.jsonl to `outDir` when given. */
export async function runEncoderFinetune(
  spec: EncoderFinetuneSpec,
  outDir?: string,
  progress: Progress = () => {},
  opts: Omit<TrainingOptions, "outDir"> = {},
): Promise<EncoderFinetuneResult> {
  spec = encoderSpec(spec);
  const cfg = encoderLoraConfig(spec);
  const { data, model, train, val, test, truncated, probe, probeHead, probeSeconds } = await prepareTask(spec);
  const numLabels = data.dataset.labels.length;
  if (truncated > 0) progress(truncationNote(truncated));
  progress(`${dataName(spec)}: train ${train.labels.length}, validation ${val.labels.length}, test ${test.labels.length}`);
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
  const t = await trainEncoder(
    spec,
    cfg,
    { train, val, numLabels, constants: model.constants },
    inj,
    progress,
    { ...opts, ...(outDir === undefined ? {} : { outDir }) },
  );
  if (t.stoppedEarly) progress(`stopped early after step ${t.steps}: no lower validation loss for ${spec.earlyStopPatience} evaluations`);
  if (t.kept === "best") progress(`keeping the adapter of step ${t.bestStep}, the lowest validation loss`);
  const examplesPerSecond = t.seen / t.trainSeconds;
  const { params, diverged } = t;
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
    labels: data.dataset.labels,
    validation: { accuracy: ev.accuracy, loss: ev.loss },
    test: { accuracy: et.accuracy, loss: et.loss },
    probe,
    examplesPerSecond,
    evalExamplesPerSecond,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
    diverged,
    collapsed,
    stoppedEarly: t.stoppedEarly,
    bestStep: t.bestStep,
    savedAdapter: t.kept,
    steps: t.steps,
    losses: t.losses,
    splits: data.splits,
    testPredictions: et.predictions,
    testLogits: et.logits,
    truncated,
    dynamics: t.dynamics,
  };
  if (outDir !== undefined) {
    await saveAdapter(outDir, params, cfg, { base_model_name_or_path: "use-lite", task_type: "SEQ_CLS" });
    await writeFileAtomic(path.join(outDir, RUN_FILE), finiteJson({ model: "use-lite", ...result }) + "\n");
    await removeCheckpoint(outDir); // finished: the adapter and run.json are the run's result
    progress(`saved the adapter, ${RUN_FILE} and metrics.jsonl in ${outDir}`);
  }
  disposeTree(params);
  return result;
}

export const RUN_FILE = "run.json";
