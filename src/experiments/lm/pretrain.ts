// Pretrain a Llama-architecture decoder from scratch on real text (`lorascope pretrain`): every weight
// trained with AdamW (linear warmup, cosine decay), HF's causal-LM loss, one jitted step per batch
// shape. The result is a Hugging Face model folder (config.json, model.safetensors, the tokenizer
// files) that lorascope and transformers load, plus pretrain.json with the loss curve, the held-out
// perplexity and the unigram baseline's perplexity on the same tokens.
//
// The tokenizer is stories260K's 512-piece SentencePiece model (bundled, byte fallback, BOS added),
// shared by every model pretrained here: a family that differs only in width must see the same token
// stream, and a 512-entry vocabulary keeps the embedding a small part of even the narrowest model, so
// width — not vocabulary — is what the family varies.
//
// Randomness: root = key(seed); the initial weights from fold(root, "init"), the batch order of epoch
// e from fold(fold(root, "order"), e). A step's batch is a function of the step number alone, so a run
// resumed from OUT/checkpoint replays exactly the steps the uninterrupted run would have taken.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as prng from "../../core/prng.ts";
import { UserError } from "../../core/errors.ts";
import { combine } from "../../core/tree.ts";
import { disposeTree, initEngine } from "../../engine/index.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { hfFolderFiles } from "../../io/convert-llama2c.ts";
import { finiteJson } from "../../io/finite-json.ts";
import type { LlamaConfigJson } from "../../io/llama2c.ts";
import { loadStories260K, STORIES260K_FILES } from "../../io/stories260k.ts";
import { causalLmLoss, initLm, lmToTensors, logits, parseLmConfig } from "../../models/lm.ts";
import type { LmSequences } from "../../data/lm-text.ts";
import { loadLmTextCached } from "../../data/lm-token-cache.ts";
import { batchSchedule, padLengths } from "../../data/lm-batches.ts";
import { unigramBaseline, type UnigramBaseline } from "../../data/unigram.ts";
import { checkpointDir, loadCheckpoint, removeCheckpoint, saveCheckpoint } from "../../train/checkpoint.ts";
import { createJitTrainer } from "../../train/jit-trainer.ts";
import { runLoop, type LoopState } from "../../train/loop.ts";
import { METRICS_FILE, nullSink, openMetrics, type MetricsSink } from "../../train/metrics.ts";
import { finetuneOptimizer, scheduleOf } from "../../train/optimizer.ts";
import type { TrainState } from "../../train/trainer.ts";
import { batchTensors, lossEvaluator, PAD_ID, type LmLoss } from "./evaluate.ts";
import { parameterCount, pretrainConfigJson, pretrainSpec, pretrainValidation, specDifference, type PretrainInput, type PretrainSpec } from "./pretrain-spec.ts";

export const PRETRAIN_FILE = "pretrain.json";
export const TOKENIZER_NAME = "stories260K tok512 (SentencePiece BPE, 512 pieces, byte fallback)";

export interface PretrainResult {
  readonly spec: PretrainSpec;
  readonly config: LlamaConfigJson;
  readonly parameters: number;
  readonly tokenizer: string;
  readonly train: { readonly description: string; readonly sequences: number; readonly tokens: number };
  readonly validation: {
    readonly description: string;
    readonly sequences: number;
    /** The model's held-out loss after the last step (null when the run diverged). */
    readonly final: LmLoss | null;
    /** The add-one unigram model of the training tokens on the same held-out tokens. */
    readonly unigram: UnigramBaseline;
  };
  /** Training loss per step, from step 1 (a non-finite last entry marks the divergence). */
  readonly losses: number[];
  /** Held-out loss every evalEvery steps. */
  readonly evals: ReadonlyArray<{ readonly step: number; readonly loss: number; readonly perplexity: number }>;
  readonly steps: number;
  readonly diverged: boolean;
  /** Training tokens per second of this process's steps (evaluation excluded). */
  readonly tokensPerSecond: number;
  readonly peakRssMiB: number;
  /** The step a resumed run continued from. */
  readonly resumedFrom?: number;
}

export interface PretrainOptions {
  /** The output folder (already guarded and locked by the caller); the HF files and pretrain.json go here. */
  readonly outDir?: string;
  /** Continue from OUT/checkpoint (written every `checkpointEvery` steps and once a minute). */
  readonly resume?: boolean;
  readonly checkpointEvery?: number;
  /** Event lines (data, evaluations, the result). */
  readonly progress?: (line: string) => void;
  /** After every step: steps done, the total, the loss, training tokens per second so far. */
  readonly onStep?: (step: number, total: number, loss: number, tokensPerSecond: number) => void;
  /** More files for a fresh run's folder (name → text), written once the data has been checked. */
  readonly extraFiles?: ReadonlyMap<string, string>;
  /** A folder of token ids (data/lm-token-cache.ts): a text tokenized once serves every later run. */
  readonly tokenCache?: string;
  /** Stop before the next step (a checkpoint at the last multiple of checkpointEvery survives). */
  readonly signal?: AbortSignal;
}

interface CheckpointMeta {
  readonly spec: PretrainSpec;
  readonly loop: LoopState;
  readonly losses: number[];
  readonly evals: PretrainResult["evals"];
}

export async function runPretrain(partial: PretrainInput, options: PretrainOptions = {}): Promise<PretrainResult> {
  const bundled = loadStories260K();
  const vocabSize = bundled.config.vocab_size;
  const spec = pretrainSpec(partial, vocabSize);
  const progress = options.progress ?? (() => {});
  const out = options.outDir;
  if (options.resume === true && (out === undefined || checkpointDir(out) === undefined)) {
    throw new UserError(`${out ?? "the run"} has no checkpoint to resume`);
  }

  const tokenizerKey = STORIES260K_FILES.tokenizer.sha256;
  const cache = options.tokenCache === undefined ? undefined : { dir: options.tokenCache, tokenizerKey };
  const text = (source: string, split: "train" | "validation"): LmSequences =>
    loadLmTextCached(source, { seqLen: spec.seqLen, vocabSize, tokenizer: bundled.tokenizer, split }, cache);
  const train = text(spec.data, "train");
  const validSource = pretrainValidation(spec) as string; // pretrainSpec refuses a file without --valid
  const validAll = text(validSource, "validation");
  const valid = validAll.sequences.slice(0, spec.evalLimit);
  if (train.sequences.length < spec.batch) {
    throw new UserError(
      `${train.description} makes ${train.sequences.length} sequences of at most ${spec.seqLen} tokens, fewer than one batch of ${spec.batch}; ` +
        `give more text or a smaller --batch or --seq-len`,
    );
  }
  const unigram = unigramBaseline(train.sequences, valid, vocabSize);
  const { bos_token_id: bos, eos_token_id: eos } = bundled.config;
  const config = pretrainConfigJson(spec, { vocabSize, bos, eos });
  const cfg = parseLmConfig(config);
  const parameters = parameterCount(spec, vocabSize);
  progress(
    `pretraining a Llama of width ${spec.width}, ${spec.layers} layers, ${spec.width / spec.headDim} heads of ${spec.headDim} ` +
      `(${(parameters / 1e6).toFixed(2)} M parameters) on ${train.description}: ${train.sequences.length} sequences, ${train.tokens} tokens`,
  );
  progress(
    `validation: ${validAll.description}, first ${valid.length} sequences; ` +
      `unigram baseline perplexity ${unigram.perplexity.toFixed(2)}`,
  );

  await initEngine();
  const root = prng.key(spec.seed);
  const optimizerOptions = { schedule: "cosine" as const, warmupSteps: spec.warmupSteps, weightDecay: spec.weightDecay };
  const lrAt = scheduleOf(optimizerOptions, spec.lr, spec.steps);
  const trainer = createJitTrainer({
    loss: (p, ids, mask) => {
      const { loss, count } = causalLmLoss(logits(p, ids.ref, cfg), ids, mask);
      count.dispose();
      return loss;
    },
    optimizer: finetuneOptimizer(optimizerOptions, spec.lr, spec.steps),
    trainable: () => true,
  });
  const evaluator = lossEvaluator(cfg, undefined, spec.batch, spec.seqLen);

  const fresh = trainer.init(initLm(prng.fold(root, "init"), cfg));
  let state: TrainState = fresh;
  let start: { step: number; loop: LoopState } | undefined;
  const losses: number[] = [];
  const evals: Array<PretrainResult["evals"][number]> = [];
  let sink: MetricsSink = nullSink;
  if (options.resume === true && out !== undefined) {
    const ck = await loadCheckpoint<CheckpointMeta>(out, { trainable: fresh.trainable, optState: fresh.optState });
    const differs = specDifference(ck.meta.spec, spec);
    if (differs !== undefined) {
      disposeTree(ck.trainable);
      disposeTree(ck.optState);
      throw new UserError(`the checkpoint in ${out} was pretrained with other settings: ${differs}; resume with the same settings or use a new --out`);
    }
    state = { trainable: ck.trainable, frozen: fresh.frozen, optState: ck.optState, step: ck.step };
    start = { step: ck.step, loop: ck.meta.loop };
    losses.push(...ck.meta.losses);
    evals.push(...ck.meta.evals);
    sink = openMetrics(out, { resumeAt: ck.step });
    progress(`resuming ${out} at step ${ck.step}/${spec.steps}`);
  } else if (out !== undefined) {
    // From here on the run writes into OUT; every bad input was refused above.
    await mkdir(out, { recursive: true });
    for (const [name, content] of options.extraFiles ?? []) await writeFileAtomic(path.join(out, name), content);
    sink = openMetrics(out);
  }

  const batchOptions = { batchSize: spec.batch, padId: PAD_ID, lengths: padLengths(spec.seqLen) };
  const batchAt = batchSchedule(prng.fold(root, "order"), train.sequences, batchOptions);

  let tokens = 0;
  let trainMs = 0;
  const rate = (): number => tokens / Math.max(1e-9, trainMs / 1000);
  try {
    const loop = await runLoop<TrainState>(
      {
        totalSteps: spec.steps,
        step: async (st, step) => {
          if (options.signal?.aborted === true) throw new UserError(`pretraining was interrupted before step ${step + 1}`);
          const t = performance.now();
          const b = batchAt(step);
          const o = await trainer.stepWithNorm(st, ...batchTensors(b));
          trainMs += performance.now() - t;
          tokens += b.predicted;
          losses.push(o.loss);
          options.onStep?.(step + 1, spec.steps, o.loss, rate());
          return { ...o, lr: lrAt(step) as number };
        },
        evaluate: async (st, step) => {
          const l = await evaluator.evaluate(combine(st.trainable, st.frozen), valid);
          evals.push({ step, loss: l.loss, perplexity: l.perplexity });
          progress(`step ${step}/${spec.steps}: validation loss ${l.loss.toFixed(4)}, perplexity ${l.perplexity.toFixed(2)}`);
          return { loss: l.loss, perplexity: l.perplexity, tokens: l.tokens };
        },
        evalEvery: spec.evalEvery,
        watch: { key: "loss", mode: "min" },
        ...(out === undefined
          ? {}
          : {
              checkpoint: {
                ...(options.checkpointEvery === undefined ? {} : { every: options.checkpointEvery }),
                seconds: 60,
                save: async (st: TrainState, step: number, loopState: LoopState) => {
                  const done = losses.slice(0, step);
                  const meta: CheckpointMeta = { spec, loop: loopState, losses: done, evals: [...evals] };
                  const { trainable, optState } = st;
                  await saveCheckpoint(out, { step, trainable, optState, meta, host: new Map() });
                },
              },
            }),
        sink,
        ...(start === undefined ? {} : { start }),
      },
      state,
    );
    const diverged = loop.diverged;
    if (diverged) progress(`diverged: loss ${String(losses.at(-1))} at step ${loop.steps}`);
    const params = trainer.params(loop.state);
    evaluator.dispose();
    // The loop evaluates after the last step (unless the run diverged): that is the final held-out loss.
    const lastEval = loop.lastEval;
    const final: LmLoss | null =
      diverged || lastEval === undefined
        ? null
        : {
            loss: lastEval.valid["loss"] as number,
            perplexity: lastEval.valid["perplexity"] as number,
            tokens: lastEval.valid["tokens"] as number,
          };
    const result: PretrainResult = {
      spec,
      config,
      parameters,
      tokenizer: TOKENIZER_NAME,
      train: { description: train.description, sequences: train.sequences.length, tokens: train.tokens },
      validation: { description: validAll.description, sequences: valid.length, final, unigram },
      losses,
      evals,
      steps: loop.steps,
      diverged,
      tokensPerSecond: rate(),
      peakRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
      ...(start === undefined ? {} : { resumedFrom: start.step }),
    };
    if (out !== undefined) {
      const files = hfFolderFiles({
        config,
        tensors: await lmToTensors(params, cfg),
        tokenizerJson: bundled.tokenizerJson,
        tokenizerConfig: { ...bundled.tokenizerConfig, model_max_length: spec.seqLen },
        generationConfig: bundled.generationConfig,
        tokenizer: bundled.tokenizer,
      });
      for (const [name, data] of files) await writeFileAtomic(path.join(out, name), data);
      // pretrain.json last: its presence says the folder is complete.
      await writeFileAtomic(path.join(out, PRETRAIN_FILE), finiteJson(result) + "\n");
      await removeCheckpoint(out);
      progress(`saved the model, ${PRETRAIN_FILE} and ${METRICS_FILE} in ${out}`);
    }
    disposeTree(params);
    return result;
  } finally {
    sink.close();
  }

}

