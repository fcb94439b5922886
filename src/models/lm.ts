// Causal language models by Hugging Face `model_type`: one discriminated union over the
// architectures, so callers (loading, finetuning, generation) handle any of them the same way.
//
//   parseLmConfig(config.json) → LmConfig        init / fromTensors → Params
//   logits(params, ids [B, T], cfg, ctx) → [B, T, V]
//   causalLmLoss(logits, ids, mask) → mean next-token cross-entropy and the number of predicted tokens
//   decoder(cfg, length, ctx) → jitted prefill + one-token decode steps over a KV cache
import { UserError } from "../core/errors.ts";
import type { Key } from "../core/prng.ts";
import type { Params } from "../core/tree.ts";
import { jit, jnn, np, type Tensor } from "../engine/index.ts";
import type { Ctx } from "../nn/context.ts";
import * as gpt2 from "./gpt2.ts";
import * as llama from "./llama.ts";
import { tensorsFromParams, type HostF32, type KvCache, type TensorSlot } from "./lm-tensors.ts";

export type { HostF32, KvCache, TensorSlot };

export type LmConfig = llama.LlamaConfig | gpt2.GPT2Config;
export type ModelType = LmConfig["modelType"];
export const MODEL_TYPES: readonly ModelType[] = ["llama", "gpt2"];

/** The config.json of a causal LM → its validated config; an unknown model_type names the supported ones. */
export function parseLmConfig(json: unknown, source = "config.json"): LmConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new UserError(`${source} is not a JSON object`);
  const obj = json as Record<string, unknown>;
  const type = obj["model_type"];
  switch (type) {
    case "llama":
      return llama.parseConfig(obj, source);
    case "gpt2":
      return gpt2.parseConfig(obj, source);
    default:
      throw new UserError(
        `${source} has model_type ${JSON.stringify(type)}, which lorascope does not implement; supported: ${MODEL_TYPES.map((t) => `"${t}"`).join(", ")}`,
      );
  }
}

/** The most positions a sequence (prompt + generated tokens) may have. */
export function maxPositions(cfg: LmConfig): number {
  return cfg.modelType === "llama" ? cfg.maxPositions : cfg.nPositions;
}

export function vocabSize(cfg: LmConfig): number {
  return cfg.vocabSize;
}

/** The checkpoint's tensors (file key, param path, shape); `keys` lets GPT-2 tell its key prefix. */
export function tensorSlots(cfg: LmConfig, keys: Iterable<string> = []): TensorSlot[] {
  switch (cfg.modelType) {
    case "llama":
      return llama.slots(cfg);
    case "gpt2": {
      const names = [...keys];
      return gpt2.slots(cfg, names.length === 0 || gpt2.hasPrefix(names));
    }
  }
}

/** Checkpoint keys the model may skip. */
export function ignorableKey(cfg: LmConfig): (key: string) => boolean {
  return cfg.modelType === "llama" ? llama.ignorable(cfg) : gpt2.ignorable;
}

/** Random params as Hugging Face initializes the architecture. Owned. */
export function initLm(key: Key, cfg: LmConfig): Params {
  return cfg.modelType === "llama" ? llama.init(key, cfg) : gpt2.init(key, cfg);
}

/** Params from host tensors keyed as in the checkpoint; names and shapes are checked. Owned. */
export function lmFromTensors(tensors: ReadonlyMap<string, HostF32>, cfg: LmConfig, source?: string): Params {
  return cfg.modelType === "llama" ? llama.fromTensors(tensors, cfg, source) : gpt2.fromTensors(tensors, cfg, source);
}

/**
 * Params as checkpoint tensors (file keys and layouts; GPT-2's Conv1D weights back to [in, out]), for
 * writing merged weights. `keys`: the original file's keys, to keep its key prefix. Borrows `params`.
 */
export function lmToTensors(params: Params, cfg: LmConfig, keys: Iterable<string> = []): Promise<Map<string, HostF32>> {
  return tensorsFromParams(tensorSlots(cfg, keys), params);
}

/** Logits [B, T, V] for int32 ids [B, T]. Consumes `params` and `ids`. */
export function logits(params: Params, ids: Tensor, cfg: LmConfig, ctx?: Ctx): Tensor {
  checkLength(ids.shape[1] as number, cfg);
  return cfg.modelType === "llama" ? llama.apply(params, ids, cfg, ctx) : gpt2.apply(params, ids, cfg, ctx);
}

function checkLength(T: number, cfg: LmConfig): void {
  if (T > maxPositions(cfg)) {
    throw new UserError(`a sequence of ${T} tokens is longer than the model's ${maxPositions(cfg)} positions`);
  }
}

/**
 * Hugging Face's causal-LM loss (transformers loss/loss_utils.py `ForCausalLMLoss`): token t + 1 is
 * predicted from the logits at t within its sequence; the mean is over all predicted tokens of the
 * batch (token-weighted, not per sequence). logits [B, T, V]; ids [B, T] int32; mask [B, T] float,
 * 1 for a token and 0 for padding (a padded target is not predicted) — all ones when absent.
 * Returns the loss [] (0 when nothing is predicted) and the number of predicted tokens []. Consumes its arguments.
 */
export function causalLmLoss(logits: Tensor, ids: Tensor, mask?: Tensor): { loss: Tensor; count: Tensor } {
  const [B, T, V] = logits.shape as [number, number, number];
  const logp = jnn.logSoftmax(logits.slice([], [0, T - 1]), -1); // [B, T−1, V]
  // The target's log-probability through a one-hot mask rather than takeAlongAxis: the gather's
  // backward is a scatter, which jax-js 0.1.25 cannot jit ("routine primitive scatter input is not imm").
  const targets = jnn.oneHot(ids.slice([], [1, T]), V); // [B, T−1, V]
  const picked = logp.mul(targets).sum(-1); // [B, T−1]: log p(ids[t+1] | ids[≤t])
  const weights = mask === undefined ? np.ones([B, T - 1]) : mask.slice([], [1, T]); // [B, T−1]
  const count = weights.ref.sum();
  const loss = picked.mul(weights).sum().neg().div(np.maximum(count.ref, 1));
  return { loss, count };
}

/** A KV-cached decoder of a fixed batch size and length (prompt + new tokens ≤ `length`). */
export interface Decoder {
  /** Prompt ids [B, T] → logits [B, T, V] and the cache. Consumes `params` and `ids`. */
  prefill(params: Params, ids: Tensor): { logits: Tensor; cache: KvCache };
  /**
   * The next token of each sequence, ids [B, 1] at `position` (= tokens so far) → logits [B, 1, V]
   * and the new cache. One jitted call; consumes `params` and `ids`, moves `cache` (the old one is
   * spent, the returned one is the caller's).
   */
  step(params: Params, cache: KvCache, ids: Tensor, position: number): { logits: Tensor; cache: KvCache };
  /** Free the compiled step. */
  dispose(): void;
}

type StepFn = (params: Params, cache: KvCache, ids: Tensor, inputs: Record<string, Tensor>) => [Tensor, KvCache];

/** A decoder for `cfg`; `ctx` (e.g. an unmerged LoRA context without dropout) applies to every call. */
export function decoder(cfg: LmConfig, length: number, ctx?: Ctx): Decoder {
  checkLength(length, cfg);
  // Every position-dependent value (rope tables, mask, cache slot) enters as a tensor of a fixed
  // shape, so jit traces the step once and each later token is one dispatch of the compiled program.
  const compiled = jit(((params: Params, cache: KvCache, ids: Tensor, inputs: Record<string, Tensor>) => {
    const out =
      cfg.modelType === "llama" ? llama.decodeStep(params, cache, ids, inputs, cfg, ctx) : gpt2.decodeStep(params, cache, ids, inputs, cfg, ctx);
    return [out.logits, out.cache];
  }));
  const step = compiled as unknown as StepFn;
  return {
    prefill(params, ids) {
      checkLength(ids.shape[1] as number, cfg);
      return cfg.modelType === "llama" ? llama.prefill(params, ids, cfg, length, ctx) : gpt2.prefill(params, ids, cfg, length, ctx);
    },
    step(params, cache, ids, position) {
      if (!(Number.isInteger(position) && position >= 0 && position < length)) {
        throw new UserError(`decode position ${position} is outside the decoder's ${length} positions`);
      }
      const inputs = cfg.modelType === "llama" ? llama.stepInputs(cfg, position, length) : gpt2.stepInputs(cfg, position, length);
      const [logitsOut, cache2] = step(params, cache, ids, inputs);
      return { logits: logitsOut, cache: cache2 };
    },
    dispose: () => compiled.dispose(),
  };
}
