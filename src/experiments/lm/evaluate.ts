// Held-out loss of a causal LM, with or without a LoRA adapter: the token-weighted mean next-token
// cross-entropy over every predicted token of the data (HF's causal-LM convention, models/lm.ts
// causalLmLoss, combined across batches by data/lm-batches.ts combineTokenLosses) and its perplexity.
import { UserError } from "../../core/errors.ts";
import * as prng from "../../core/prng.ts";
import { refTree, disposeTree, jit, np, readScalar, type Tensor } from "../../engine/index.ts";
import type { Params } from "../../core/tree.ts";
import { loadLm, type LmTokenizerInfo } from "../../io/lm-model.ts";
import { applyAdapter, loadAdapter } from "../../io/peft.ts";
import { scaling } from "../../lora/config.ts";
import { injectLora } from "../../lora/inject.ts";
import { context as loraContext } from "../../lora/linear.ts";
import { causalLmLoss, logits, maxPositions, type LmConfig } from "../../models/lm.ts";
import type { Ctx } from "../../nn/context.ts";
import { combineTokenLosses, evalBatches, padLengths, type LmBatch } from "../../data/lm-batches.ts";
import type { LmSequences } from "../../data/lm-text.ts";
import { loadLmTextCached } from "../../data/lm-token-cache.ts";
import type { SplitName } from "../../data/documents.ts";

export interface LmLoss {
  /** Mean next-token cross-entropy (nats) over the predicted tokens. */
  readonly loss: number;
  readonly perplexity: number;
  /** Predicted tokens. */
  readonly tokens: number;
}

/** Any valid id will do: padded positions are masked out of the loss. */
export const PAD_ID = 0;

/** Device tensors of one batch: ids [B, T] int32, mask [B, T]. Owned. */
export function batchTensors(b: LmBatch): [Tensor, Tensor] {
  return [np.array(b.ids).reshape([b.batchSize, b.length]), np.array(b.mask).reshape([b.batchSize, b.length])];
}

export interface LossEvaluator {
  /** The loss of `params` (borrowed) over `sequences`. */
  evaluate(params: Params, sequences: readonly Int32Array[]): Promise<LmLoss>;
  dispose(): void;
}

/** One jitted forward per batch shape [batch, T] (T from padLengths(seqLen): at most four). */
export function lossEvaluator(cfg: LmConfig, ctx: Ctx | undefined, batch: number, seqLen: number): LossEvaluator {
  const step = jit((p: Params, ids: Tensor, mask: Tensor) => {
    const { loss, count } = causalLmLoss(logits(p, ids.ref, cfg, ctx), ids, mask);
    return [loss, count];
  }) as unknown as ((p: Params, ids: Tensor, mask: Tensor) => [Tensor, Tensor]) & { dispose(): void };
  const options = { batchSize: batch, padId: PAD_ID, lengths: padLengths(seqLen) };
  return {
    async evaluate(params, sequences) {
      const parts = [];
      for (const b of evalBatches(sequences, options)) {
        const [loss, count] = step(refTree(params), ...batchTensors(b));
        parts.push({ mean: await readScalar(loss), count: await readScalar(count) });
      }
      const { mean, count } = combineTokenLosses(parts);
      return { loss: mean, perplexity: Math.exp(mean), tokens: count };
    },
    dispose: () => step.dispose(),
  };
}

/** Refuse a sequence length the model has no positions for (a usage error). */
export function checkSeqLen(seqLen: number, cfg: LmConfig, model: string): void {
  if (seqLen > maxPositions(cfg)) {
    throw new UserError(`--seq-len ${seqLen} is more than ${model}'s ${maxPositions(cfg)} positions; give at most ${maxPositions(cfg)}`);
  }
}

export interface LmSequencesOptions {
  /** Keep the first this many sequences. */
  readonly limit?: number | undefined;
  /** A token cache folder (data/lm-token-cache.ts): ids read from it, or tokenized and stored there. */
  readonly tokenCache?: string | undefined;
}

/** Token sequences of `spec` for `lm` (a built-in corpus's `split`), cut to `seqLen`, the first `limit` kept. */
export function lmSequences(
  lm: LmTokenizerInfo,
  spec: string,
  seqLen: number,
  split: SplitName,
  options: LmSequencesOptions = {},
): LmSequences {
  // A folder without tokenizer.json can still read pre-tokenized .jsonl; text says what is missing.
  const tokenizer = lm.tokenizer ?? {
    encode: (): number[] => {
      throw new UserError(`${lm.name} has no tokenizer.json, so ${spec} cannot be tokenized; add the model's tokenizer.json or give a .jsonl file of {"input_ids": [...]} lines`);
    },
  };
  const { tokenCache: dir } = options;
  const cache = dir === undefined || lm.tokenizerKey === undefined ? undefined : { dir, tokenizerKey: lm.tokenizerKey };
  const seqs = loadLmTextCached(spec, { seqLen, vocabSize: lm.vocabSize, tokenizer, split }, cache);
  const { limit } = options;
  if (limit === undefined || limit >= seqs.sequences.length) return seqs;
  const sequences = seqs.sequences.slice(0, limit);
  return { ...seqs, sequences, tokens: sequences.reduce((n, s) => n + s.length, 0), description: `${seqs.description}, first ${limit} sequences` };
}

export interface EvaluateLmOptions {
  readonly model: string;
  readonly adapter?: string;
  readonly data: string;
  readonly seqLen: number;
  readonly batch: number;
  readonly split: SplitName;
  readonly limit?: number;
}

/**
 * `lorascope evaluate` for a causal LM: the model (and adapter: loadAdapter → injectLora with its
 * config → applyAdapter, which refuses an adapter whose modules or shapes this model lacks) on `data`.
 */
export async function evaluateLm(
  o: EvaluateLmOptions,
): Promise<LmLoss & { readonly sequences: number; readonly description: string }> {
  const lm = await loadLm(o.model);
  checkSeqLen(o.seqLen, lm.config, o.model);
  const seqs = lmSequences(lm, o.data, o.seqLen, o.split, { limit: o.limit });
  let params = lm.params;
  let ctx: Ctx | undefined;
  if (o.adapter !== undefined) {
    const loaded = await loadAdapter(o.adapter);
    try {
      // The key only matters for random factors, which the adapter's tensors replace.
      params = applyAdapter((await injectLora(prng.key(0), params, loaded.config)).params, loaded);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      throw new UserError(`the adapter in ${o.adapter} does not fit ${o.model} (made for another model?): ${err.message}`);
    }
    ctx = loraContext({ scaling: scaling(loaded.config) });
  }
  const ev = lossEvaluator(lm.config, ctx, o.batch, o.seqLen);
  try {
    const r = await ev.evaluate(params, seqs.sequences);
    return { ...r, sequences: seqs.sequences.length, description: seqs.description };
  } finally {
    ev.dispose();
    disposeTree(params);
  }
}
