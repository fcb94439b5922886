// LoRA-finetune a causal language model (stories260K or a Hugging Face folder) on text, under any init
// scheme: AdamW on the LoRA factors only, one jitted step per batch shape, HF's causal-LM loss
// (token-weighted mean over the predicted tokens). Reports held-out loss and perplexity before and
// after, the per-module dynamics (Z_A, Z_B, δ¹/δ²/δ³) on a fixed measuring batch, and records a
// diverged (non-finite training loss) or collapsed run as an outcome rather than a crash.
//
// Randomness: root = key(seed); the adapter from fold(root, "adapter"), the batch order from
// fold(root, "order"). The base model and the data do not depend on the seed, so runs that differ
// only in `init` differ only in the adapter's starting point.
import path from "node:path";
import { mkdir } from "node:fs/promises";
import * as prng from "../../core/prng.ts";
import { UserError } from "../../core/errors.ts";
import { combine, flatten, getPath, setPath, type Params } from "../../core/tree.ts";
import { disposeTree, np, random, read, tensor, type Tensor } from "../../engine/index.ts";
import { checkEmptyOut, writeFileAtomic } from "../../io/atomic.ts";
import { finiteJson } from "../../io/finite-json.ts";
import { loadLm } from "../../io/lm-model.ts";
import { saveAdapter } from "../../io/peft.ts";
import { scaling, type LoraConfig } from "../../lora/config.ts";
import { injectLora } from "../../lora/inject.ts";
import { context as loraContext } from "../../lora/linear.ts";
import { causalLmLoss, logits, type LmConfig } from "../../models/lm.ts";
import { batchSchedule, makeBatch, padLengths } from "../../data/lm-batches.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";
import { runLoop } from "../../train/loop.ts";
import { METRICS_FILE, nullSink, openMetrics, type MetricsSink } from "../../train/metrics.ts";
import { finetuneOptimizer, scheduleOf } from "../../train/optimizer.ts";
import type { TrainState } from "../../train/trainer.ts";
import type { LoopState } from "../../train/loop.ts";
import { checkpointDir, removeCheckpoint } from "../../train/checkpoint.ts";
import { checkpointing, resumeRun } from "../resume.ts";
import { dynamicsRecorder, type ModuleDynamics } from "../dynamics.ts";
import { canonicalSettings } from "../store.ts";
import { batchTensors, checkSeqLen, lmSequences, lossEvaluator, PAD_ID, type LmLoss } from "./evaluate.ts";
import { hasTestSplit, lmLoraConfig, lmSpec, validationOf, type LmFinetuneSpec } from "./spec.ts";

export const RUN_FILE = "run.json";
export { METRICS_FILE };

/** A held-out set's loss before and after finetuning (`after` null when the run diverged). */
export interface HeldOut {
  readonly description: string;
  readonly before: LmLoss;
  readonly after: LmLoss | null;
}

export interface LmFinetuneResult {
  readonly spec: LmFinetuneSpec;
  readonly lora: LoraConfig;
  readonly modelType: LmConfig["modelType"];
  readonly vocabSize: number;
  /** Modules that received an adapter. */
  readonly targets: readonly string[];
  readonly steps: number;
  /** Early stopping ended the run (the adapter kept is the best evaluation's). */
  readonly stoppedEarly: boolean;
  readonly train: {
    readonly description: string;
    readonly sequences: number;
    readonly tokens: number;
    readonly truncated: number;
  };
  /** --valid, or a built-in corpus's validation split; null for a file without --valid. */
  readonly validation: HeldOut | null;
  /** A built-in corpus's test split; null otherwise. */
  readonly test: HeldOut | null;
  /** Training loss per step (a non-finite last entry marks the divergence). */
  readonly losses: number[];
  /** Predicted training tokens per second (every step, compilation included; measuring excluded). */
  readonly tokensPerSecond: number;
  readonly peakRssMiB: number;
  readonly diverged: boolean;
  /**
   * The loss ended above ln V, the loss of the uniform distribution over the vocabulary (validation
   * loss when there is a held-out set, else the mean of the last ten training losses): the model
   * predicts worse than knowing nothing, i.e. the finetune destroyed what it knew.
   */
  readonly collapsed: boolean;
  /** Per-module RMS(Z_A), RMS(Z_B), δ¹/δ²/δ³ at step 0, every `dynamicsEvery` steps and at the end. */
  readonly dynamics: ModuleDynamics[];
}

export type Progress = (line: string) => void;

export interface LmFinetuneOptions {
  /**
   * A new or empty folder for the adapter, run.json and metrics.jsonl (written as the run goes); the
   * folder is made only once the model, the data and the adapter's targets have been checked.
   */
  readonly outDir?: string;
  /** More files for the output folder (name → text), e.g. the CLI's config.json. */
  readonly extraFiles?: ReadonlyMap<string, string>;
  readonly progress?: Progress;
  /** A token cache folder shared by runs on the same texts (a sweep's OUT/token-cache). */
  readonly tokenCache?: string;
  /** Continue the interrupted run in `outDir` from its checkpoint. */
  readonly resume?: boolean;
  /** With `outDir`: checkpoint every this many steps; absent: every minute. */
  readonly checkpointEvery?: number;
}


export async function runLmFinetune(
  partial: LmFinetuneSpec,
  options: LmFinetuneOptions = {},
): Promise<LmFinetuneResult> {
  const spec = lmSpec(partial);
  const progress = options.progress ?? (() => {});
  const lm = await loadLm(spec.model);
  const cfg = lm.config;
  checkSeqLen(spec.seqLen, cfg, spec.model);
  const lora = lmLoraConfig(spec, cfg.modelType);

  const cached = { tokenCache: options.tokenCache };
  const train = lmSequences(lm, spec.data, spec.seqLen, "train", cached);
  if (train.truncated > 0) progress(`note: ${train.truncated} of the .jsonl lines were longer than ${spec.seqLen} tokens and were cut`);
  if (train.dropped > 0) progress(`note: ${train.dropped} .jsonl lines had fewer than two tokens and were left out`);
  const validSpec = validationOf(spec);
  const heldOpts = { ...cached, limit: spec.evalLimit };
  const valid = validSpec === undefined ? undefined : lmSequences(lm, validSpec, spec.seqLen, "validation", heldOpts);
  const test = hasTestSplit(spec) ? lmSequences(lm, spec.data, spec.seqLen, "test", heldOpts) : undefined;
  progress(
    `${spec.model} (${cfg.modelType}), train: ${train.description}, ${train.sequences.length} sequences, ${train.tokens} tokens` +
      (valid === undefined ? "" : `; validation: ${valid.description}, ${valid.sequences.length} sequences`),
  );

  const root = prng.key(spec.seed);
  const inj = await injectLora(prng.fold(root, "adapter"), lm.params, lora);
  for (const w of inj.warnings) progress(`warning: ${w}`);
  progress(`LoRA r=${lora.r} alpha=${lora.lora_alpha} ${lora.init_lora_weights} on ${inj.targets.length} modules (${[...lora.target_modules].join(", ")})`);
  const ctx = loraContext({ scaling: scaling(lora) });
  const evaluator = lossEvaluator(cfg, ctx, spec.batch, spec.seqLen);
  // A built-in corpus's held-out splits run to thousands of sequences: say so before the wait.
  const heldOutCount = (valid?.sequences.length ?? 0) + (test?.sequences.length ?? 0);
  const heldOut = async (params: Params, when: string): Promise<{ valid?: LmLoss; test?: LmLoss }> => {
    if (heldOutCount > 0) {
      const fewer = spec.evalLimit === undefined && heldOutCount > 256 ? " (--eval-limit N evaluates fewer)" : "";
      progress(`evaluating ${when} training on ${heldOutCount} held-out sequences${fewer}`);
    }
    return {
      ...(valid === undefined ? {} : { valid: await evaluator.evaluate(params, valid.sequences) }),
      ...(test === undefined ? {} : { test: await evaluator.evaluate(params, test.sequences) }),
    };
  };
  const before = await heldOut(inj.params, "before");
  const fmt = (l: LmLoss | undefined): string => (l === undefined ? "–" : `loss ${l.loss.toFixed(4)}, perplexity ${l.perplexity.toFixed(2)}`);
  if (valid !== undefined) progress(`before: validation ${fmt(before.valid)}${test === undefined ? "" : `; test ${fmt(before.test)}`}`);

  const batchOptions = { batchSize: spec.batch, padId: PAD_ID, lengths: padLengths(spec.seqLen) };
  const stepsPerEpoch = Math.ceil(train.sequences.length / spec.batch);
  const totalSteps = spec.steps ?? stepsPerEpoch * (spec.epochs ?? 1);
  const optimizerOptions = {
    schedule: spec.schedule,
    warmupSteps: spec.warmupSteps ?? Math.floor(spec.warmupFraction * totalSteps),
    weightDecay: spec.weightDecay,
    ...(spec.gradClip === undefined ? {} : { gradClip: spec.gradClip }),
    ...(spec.loraplusLrRatio === undefined ? {} : { loraplusLrRatio: spec.loraplusLrRatio }),
  };
  const lrAt = scheduleOf(optimizerOptions, spec.lr, totalSteps);
  // LoRA modules in path order: the dropout keys ride along with the batch in this order.
  const modules = inj.targets;
  const rate = lora.lora_dropout;
  const dropoutKey = prng.fold(root, "dropout");
  const trainer = createJitTrainer({
    loss: (p: Params, ids: Tensor, mask: Tensor, ...keys: Tensor[]) => {
      // lora_dropout: masks on each module's input drawn on the device from that module's key.
      const byPath = new Map(modules.map((m, i) => [m, keys[i]]));
      const deviceKeys = (m: string): Tensor | undefined => byPath.get(m);
      const c = rate > 0 ? loraContext({ scaling: scaling(lora), dropout: rate, deviceKeys }) : ctx;
      const { loss, count } = causalLmLoss(logits(p, ids.ref, cfg, c), ids, mask);
      count.dispose();
      return loss;
    },
    optimizer: finetuneOptimizer(optimizerOptions, spec.lr, totalSteps),
    trainable: inj.trainable,
  });

  // The measuring batch: the first `batch` held-out sequences (training ones without a held-out set).
  const measured = (valid ?? train).sequences.slice(0, spec.batch);
  const mb = makeBatch(measured, { ...batchOptions, batchSize: measured.length });
  const recorder =
    spec.dynamicsEvery > 0
      ? dynamicsRecorder(
          {
            forward: (p, c, [ids]) => logits(p, ids as Tensor, cfg, c),
            batch: () => [np.array(mb.ids).reshape([mb.batchSize, mb.length])], // ids [B, L]
            lengths: measured.map((s) => s.length),
            length: mb.length,
          },
          scaling(lora),
        )
      : undefined;

  // From here on the run writes into --out: metrics.jsonl as it goes, config.json first, so that a
  // folder of a run killed midway says what it was. Bad input was all refused above.
  const out = options.outDir;
  const resume = options.resume === true;
  if (resume && (out === undefined || checkpointDir(out) === undefined)) throw new UserError(`${out ?? "the run"} has no checkpoint to resume`);
  if (out !== undefined && !resume) {
    await checkEmptyOut(out);
    await mkdir(out, { recursive: true });
    for (const [name, text] of options.extraFiles ?? []) await writeFileAtomic(path.join(out, name), text);
  }
  const dynamics: ModuleDynamics[] = [];
  const measure = async (params: Params, step: number): Promise<void> => {
    if (recorder === undefined || dynamics.at(-1)?.step === step) return;
    const rows = await recorder.record(step, params);
    dynamics.push(...rows);
    sink.write({ step, dynamics: rows });
  };
  // Start: fresh, or the checkpoint's tensors in a fresh run's shapes (../resume.ts).
  const fresh = trainer.init(inj.params);
  const specText = canonicalSettings({ ...spec }); // key order aside: a CLI-made spec matches a library-made one
  let start: { step: number; loop: LoopState } | undefined;
  let state: TrainState = fresh;
  let best: Map<string, Float32Array> | undefined;
  const earlier: number[] = []; // the training losses before the checkpoint (a resumed run)
  let sink: MetricsSink = nullSink;
  if (resume && out !== undefined) {
    const r = await resumeRun(out, fresh, specText, recorder);
    ({ state, start, best, sink } = r);
    earlier.push(...r.losses);
    dynamics.push(...r.dynamics);
    progress(`resuming ${out} at step ${r.start.step}/${totalSteps}`);
  } else {
    if (out !== undefined) sink = openMetrics(out);
    sink.write({
      step: 0,
      ...(before.valid === undefined ? {} : { valid: before.valid }),
      ...(before.test === undefined ? {} : { test: before.test }),
    });
    await measure(inj.params, 0);
  }

  const batchAt = batchSchedule(prng.fold(root, "order"), train.sequences, batchOptions);
  let tokens = 0;
  let measuring = 0;
  const t0 = performance.now();
  const every = Math.max(1, Math.min(25, Math.ceil(totalSteps / 20)));
  const loop = await runLoop<TrainState>(
    {
      totalSteps,
      step: async (state, step) => {
        const b = batchAt(step);
        tokens += b.predicted;
        // Per-step keys (a function of the step number, so a resumed run draws the same masks); a
        // device key's u32 seed is the host key's low word.
        const tk = prng.fold(dropoutKey, step);
        const keys = rate > 0 ? modules.map((m) => random.key(prng.fold(tk, m).lo)) : [];
        const out = await trainer.stepWithNorm(state, ...batchTensors(b), ...keys);
        return { ...out, lr: lrAt(step) as number };
      },
      ...(valid === undefined
        ? {}
        : {
            evaluate: async (state: TrainState): Promise<Record<string, number>> => {
              const l = await evaluator.evaluate(combine(state.trainable, state.frozen), valid.sequences);
              return { loss: l.loss, perplexity: l.perplexity, tokens: l.tokens };
            },
          }),
      evalEvery: spec.evalEvery ?? 0,
      watch: { key: "loss", mode: "min" },
      ...(spec.earlyStopPatience === undefined ? {} : { patience: spec.earlyStopPatience }),
      // With early stopping the adapter kept is the best one (HF load_best_model_at_end).
      ...(spec.earlyStopPatience === undefined
        ? {}
        : { onBest: async (state: TrainState) => void (best = await hostCopy(state.trainable)) }),
      afterStep: async (state, out, step) => {
        if (spec.dynamicsEvery > 0 && step % spec.dynamicsEvery === 0) {
          const t = performance.now();
          await measure(combine(state.trainable, state.frozen), step);
          measuring += performance.now() - t;
        }
        if (step % every === 0 || step === totalSteps) {
          const secs = (performance.now() - t0 - measuring) / 1000;
          progress(`step ${step}/${totalSteps} loss ${out.loss.toFixed(4)} lr ${out.lr.toExponential(2)} (${(tokens / secs).toFixed(0)} tokens/s)`);
        }
      },
      ...(out === undefined
        ? {}
        : {
            checkpoint: checkpointing(out, options.checkpointEvery, specText, { recorder, best: () => best }),
          }),
      ...(start === undefined ? {} : { start }),
      sink,
    },
    state,
  );
  const { diverged } = loop;
  const losses = [...earlier, ...loop.losses];
  if (diverged) progress(`diverged: loss ${losses.at(-1)} at step ${loop.steps}`);
  if (loop.stoppedEarly) progress(`stopped early at step ${loop.steps}: the best validation loss was at step ${loop.bestStep}`);
  const tokensPerSecond = tokens / ((performance.now() - t0 - measuring) / 1000);
  let params = trainer.params(loop.state);
  if (best !== undefined && loop.bestStep !== loop.steps) params = restore(params, best);
  const after = diverged ? {} : await heldOut(params, "after");
  if (!diverged) await measure(params, loop.steps);
  evaluator.dispose();
  if (valid !== undefined && !diverged) {
    progress(`after: validation ${fmt(after.valid)}${test === undefined ? "" : `; test ${fmt(after.test)}`}`);
  }
  if (after.test !== undefined) sink.write({ step: loop.steps, test: after.test });
  sink.close();
  const uniform = Math.log(cfg.vocabSize);
  const tail = losses.slice(-10);
  const finalLoss = after.valid?.loss ?? tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const collapsed = !diverged && finalLoss > uniform;
  if (collapsed) progress(`collapsed: loss ${finalLoss.toFixed(4)} is above ln V = ${uniform.toFixed(4)}, the uniform distribution's`);

  const held = (s: typeof valid, b: LmLoss | undefined, a: LmLoss | undefined): HeldOut | null =>
    s === undefined || b === undefined ? null : { description: s.description, before: b, after: a ?? null };
  const result: LmFinetuneResult = {
    spec,
    lora,
    modelType: cfg.modelType,
    vocabSize: cfg.vocabSize,
    targets: inj.targets,
    steps: loop.steps,
    stoppedEarly: loop.stoppedEarly,
    train: {
      description: train.description,
      sequences: train.sequences.length,
      tokens: train.tokens,
      truncated: train.truncated,
    },
    validation: held(valid, before.valid, after.valid),
    test: held(test, before.test, after.test),
    losses,
    tokensPerSecond,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
    diverged,
    collapsed,
    dynamics,
  };
  if (options.outDir !== undefined) {
    const meta = {
      base_model_name_or_path: spec.model,
      task_type: "CAUSAL_LM",
      // GPT-2's Conv1D stores [in, out]; the factors are the same as for a Linear (models/gpt2.ts).
      ...(cfg.modelType === "gpt2" ? { fan_in_fan_out: true } : {}),
    };
    await saveAdapter(options.outDir, params, lora, meta);
    await writeFileAtomic(path.join(options.outDir, RUN_FILE), finiteJson({ model: spec.model, ...result }) + "\n");
    await removeCheckpoint(options.outDir); // finished: the adapter and run.json are the run's result
    progress(`saved the adapter, ${RUN_FILE} and ${METRICS_FILE} in ${options.outDir}`);
  }
  disposeTree(params);
  return result;
}

/** Host copies of the trainable leaves (borrowed), by path. */
async function hostCopy(trainable: Params): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [p, t] of flatten(trainable)) out.set(p, Float32Array.from(await read(t)));
  return out;
}

/** `params` with the saved leaves put back (the replaced tensors are disposed). Consumes `params`. */
function restore(params: Params, saved: ReadonlyMap<string, Float32Array>): Params {
  let out = params;
  for (const [p, data] of saved) {
    const old = getPath(out, p) as Tensor;
    out = setPath(out, p, tensor(data, old.shape));
    old.dispose();
  }
  return out;
}
