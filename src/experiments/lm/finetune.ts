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
import { writeFile } from "node:fs/promises";
import * as prng from "../../core/prng.ts";
import { combine, type Params } from "../../core/tree.ts";
import { disposeTree, np, type Tensor } from "../../engine/index.ts";
import { buildFolderAtomic } from "../../io/atomic.ts";
import { loadLm } from "../../io/lm-model.ts";
import { saveAdapter } from "../../io/peft.ts";
import { scaling, type LoraConfig } from "../../lora/config.ts";
import { injectLora } from "../../lora/inject.ts";
import { context as loraContext } from "../../lora/linear.ts";
import { causalLmLoss, logits, type LmConfig } from "../../models/lm.ts";
import { adamw, linearSchedule } from "../../optim/index.ts";
import { BUILT_IN_CORPORA } from "../../data/lm-text.ts";
import { makeBatch, padLengths, trainBatches } from "../../data/lm-batches.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";
import { dynamicsRecorder, type ModuleDynamics } from "../dynamics.ts";
import { batchTensors, checkSeqLen, lmSequences, lossEvaluator, PAD_ID, type LmLoss } from "./evaluate.ts";
import { lmLoraConfig, lmSpec, type LmFinetuneSpec } from "./spec.ts";

export const RUN_FILE = "run.json";
export const METRICS_FILE = "metrics.jsonl";

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
  /** Write the adapter, run.json and metrics.jsonl here, all or nothing (a new or empty folder). */
  readonly outDir?: string;
  /** More files for the output folder (name → text), e.g. the CLI's config.json. */
  readonly extraFiles?: ReadonlyMap<string, string>;
  readonly progress?: Progress;
}

const isCorpus = (spec: string): boolean => (BUILT_IN_CORPORA as readonly string[]).includes(spec);

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

  const train = lmSequences(lm, spec.data, spec.seqLen, "train");
  if (train.truncated > 0) progress(`note: ${train.truncated} of the .jsonl lines were longer than ${spec.seqLen} tokens and were cut`);
  if (train.dropped > 0) progress(`note: ${train.dropped} .jsonl lines had fewer than two tokens and were left out`);
  const validSpec = spec.valid ?? (isCorpus(spec.data) ? spec.data : undefined);
  const valid = validSpec === undefined ? undefined : lmSequences(lm, validSpec, spec.seqLen, "validation", spec.evalLimit);
  const test = isCorpus(spec.data) ? lmSequences(lm, spec.data, spec.seqLen, "test", spec.evalLimit) : undefined;
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
  const heldOut = async (params: Params): Promise<{ valid?: LmLoss; test?: LmLoss }> => ({
    ...(valid === undefined ? {} : { valid: await evaluator.evaluate(params, valid.sequences) }),
    ...(test === undefined ? {} : { test: await evaluator.evaluate(params, test.sequences) }),
  });
  const before = await heldOut(inj.params);
  const fmt = (l: LmLoss | undefined): string => (l === undefined ? "–" : `loss ${l.loss.toFixed(4)}, perplexity ${l.perplexity.toFixed(2)}`);
  if (valid !== undefined) progress(`before: validation ${fmt(before.valid)}${test === undefined ? "" : `; test ${fmt(before.test)}`}`);

  const batchOptions = { batchSize: spec.batch, padId: PAD_ID, lengths: padLengths(spec.seqLen) };
  const stepsPerEpoch = Math.ceil(train.sequences.length / spec.batch);
  const totalSteps = spec.steps ?? stepsPerEpoch * (spec.epochs ?? 1);
  const warmupSteps = Math.floor(spec.warmupFraction * totalSteps);
  const trainer = createJitTrainer({
    loss: (p: Params, ids: Tensor, mask: Tensor) => {
      const { loss, count } = causalLmLoss(logits(p, ids.ref, cfg, ctx), ids, mask);
      count.dispose();
      return loss;
    },
    optimizer: adamw({ lr: linearSchedule({ lr: spec.lr, warmupSteps, totalSteps }), weightDecay: spec.weightDecay }),
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
  const dynamics: ModuleDynamics[] = [];
  const measure = async (params: Params, step: number): Promise<void> => {
    if (recorder !== undefined && dynamics.at(-1)?.step !== step) {
      dynamics.push(...(await recorder.record(step, params)));
    }
  };
  await measure(inj.params, 0);

  const metrics: string[] = [];
  const metric = (m: Record<string, unknown>): void => void metrics.push(JSON.stringify(m));
  for (const [split, l] of [["validation", before.valid], ["test", before.test]] as const) {
    if (l !== undefined) metric({ step: 0, split, ...l });
  }
  let state = trainer.init(inj.params);
  const losses: number[] = [];
  let diverged = false;
  let tokens = 0;
  let measuring = 0;
  const t0 = performance.now();
  const every = Math.max(1, Math.min(25, Math.ceil(totalSteps / 20)));
  training: for (let epoch = 0; ; epoch++) {
    for (const b of trainBatches(prng.fold(root, "order"), epoch, train.sequences, batchOptions)) {
      if (state.step >= totalSteps) break training;
      const out = await trainer.step(state, ...batchTensors(b));
      state = out.state;
      losses.push(out.loss);
      tokens += b.predicted;
      metric({ step: state.step, epoch, loss: out.loss, tokens: b.predicted });
      if (!Number.isFinite(out.loss)) {
        diverged = true;
        progress(`diverged: loss ${out.loss} at step ${state.step}`);
        break training;
      }
      if (spec.dynamicsEvery > 0 && state.step % spec.dynamicsEvery === 0) {
        const t = performance.now();
        await measure(combine(state.trainable, state.frozen), state.step);
        measuring += performance.now() - t;
      }
      if (state.step % every === 0 || state.step === totalSteps) {
        const secs = (performance.now() - t0 - measuring) / 1000;
        progress(`step ${state.step}/${totalSteps} epoch ${epoch + 1} loss ${out.loss.toFixed(4)} (${(tokens / secs).toFixed(0)} tokens/s)`);
      }
    }
  }
  const tokensPerSecond = tokens / ((performance.now() - t0 - measuring) / 1000);
  const params = trainer.params(state);
  const after = diverged ? {} : await heldOut(params);
  if (!diverged) await measure(params, state.step);
  evaluator.dispose();
  if (valid !== undefined && !diverged) progress(`after: validation ${fmt(after.valid)}${test === undefined ? "" : `; test ${fmt(after.test)}`}`);
  for (const [split, l] of [["validation", after.valid], ["test", after.test]] as const) {
    if (l !== undefined) metric({ step: state.step, split, ...l });
  }
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
    steps: state.step,
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
    await buildFolderAtomic(options.outDir, async (dir) => {
      await saveAdapter(dir, params, lora, meta);
      await writeFile(path.join(dir, RUN_FILE), JSON.stringify({ model: spec.model, ...result }) + "\n");
      await writeFile(path.join(dir, METRICS_FILE), metrics.join("\n") + "\n");
      for (const [name, text] of options.extraFiles ?? []) await writeFile(path.join(dir, name), text);
    });
    progress(`saved the adapter, ${RUN_FILE} and ${METRICS_FILE} in ${options.outDir}`);
  }
  disposeTree(params);
  return result;
}
