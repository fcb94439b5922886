// The settings of `lorascope pretrain`: a Llama-architecture decoder trained from scratch, one typed
// spec with defaults, filled and validated once here. Free of engine imports, so the CLI's flag table
// reads its defaults at load time.
//
// The family's shape: the head dimension is fixed (default 32) and the head count follows the width
// (heads = width / headDim). Holding the head dimension fixed keeps each head's attention logits on one
// scale at every width, so what grows with the width is the number of features every projection maps —
// the n of the LoRA theory — and not the geometry of attention. The MLP's inner size follows llama2.c's
// rule (8/3 of the width, rounded up to a multiple of 32); the embedding is tied to the output head.
import { UserError, check } from "../../core/errors.ts";
import { BUILT_IN_CORPORA } from "../../data/lm-text.ts";
import { llamaConfigJson, type LlamaConfigJson } from "../../io/llama2c.ts";

export interface PretrainSpec {
  /** Training text: a built-in corpus (its train split) or a .txt/.jsonl file. */
  readonly data: string;
  /** Held-out text; a built-in corpus defaults to its own validation split. */
  readonly valid?: string;
  /** Model width (hidden size). */
  readonly width: number;
  readonly layers: number;
  /** Features per attention head; the head count is width / headDim. */
  readonly headDim: number;
  /** Training sequence length in tokens (also the model's positions). */
  readonly seqLen: number;
  readonly steps: number;
  /** Sequences per batch. */
  readonly batch: number;
  /** Peak learning rate of AdamW (linear warmup, cosine decay to 0). */
  readonly lr: number;
  /** Steps of linear warmup. */
  readonly warmupSteps: number;
  readonly weightDecay: number;
  /** Seed of the initial weights and of the batch order. */
  readonly seed: number;
  /** Validation every this many steps (and after the last). */
  readonly evalEvery: number;
  /** Validate on the first this many held-out sequences. */
  readonly evalLimit: number;
}

export const PRETRAIN_DEFAULTS = {
  width: 128,
  layers: 2,
  headDim: 32,
  seqLen: 128,
  steps: 600,
  batch: 16,
  lr: 3e-3,
  warmupSteps: 30,
  weightDecay: 0.1,
  seed: 0,
  evalEvery: 100,
  evalLimit: 128,
} as const;

/** Sizes past which a setting is no longer meaningful on this engine (its memory is one 4 GiB WASM heap). */
export const PRETRAIN_LIMITS = {
  width: 4096,
  layers: 64,
  seqLen: 4096,
  steps: 10_000_000,
  batch: 1024,
  evalLimit: 1_000_000,
} as const;

/** What the engine can hold: a WASM memory of 4 GiB, of which the program and its scratch need some. */
const ENGINE_BYTES = 3.5 * 2 ** 30;

/** llama2.c's MLP width: 2/3 of 4·width, rounded up to a multiple of 32. */
export function intermediateSize(width: number): number {
  return 32 * Math.ceil((8 * width) / 3 / 32);
}

/** Parameters of the family's model at `width` (tied head). */
export function parameterCount(spec: Pick<PretrainSpec, "width" | "layers">, vocabSize: number): number {
  const w = spec.width;
  const perLayer = 4 * w * w + 3 * w * intermediateSize(w) + 2 * w;
  return vocabSize * w + spec.layers * perLayer + w;
}

/**
 * Bytes the training step needs, roughly: weights, gradients and AdamW's two moments (4 copies of
 * every parameter), plus activations kept for the backward pass — per layer about 12 width-sized and
 * 3 inner-sized vectors per token and the attention scores, and the logits with their softmax.
 */
export function trainingBytes(
  spec: Pick<PretrainSpec, "width" | "layers" | "seqLen" | "batch" | "headDim">,
  vocabSize: number,
): number {
  const tokens = spec.batch * spec.seqLen;
  const heads = spec.width / spec.headDim;
  const scores = 2 * spec.batch * heads * spec.seqLen * spec.seqLen;
  const perLayer = tokens * (12 * spec.width + 3 * intermediateSize(spec.width)) + scores;
  return 4 * (4 * parameterCount(spec, vocabSize) + spec.layers * perLayer + 3 * tokens * vocabSize);
}

const isCorpus = (spec: string): boolean => (BUILT_IN_CORPORA as readonly string[]).includes(spec);

/** The held-out text of a spec: --valid, else a built-in corpus's validation split. */
export function pretrainValidation(spec: Pick<PretrainSpec, "data" | "valid">): string | undefined {
  return spec.valid ?? (isCorpus(spec.data) ? spec.data : undefined);
}

/** A spec with only the training text required. */
export type PretrainInput = Pick<PretrainSpec, "data"> & Partial<Omit<PretrainSpec, "data">>;

/** Defaults filled in and every field checked; a bad value is one UserError naming the setting. */
export function pretrainSpec(partial: PretrainInput, vocabSize = 512): PretrainSpec {
  const d = PRETRAIN_DEFAULTS;
  const spec: PretrainSpec = {
    data: partial.data,
    ...(partial.valid === undefined ? {} : { valid: partial.valid }),
    width: partial.width ?? d.width,
    layers: partial.layers ?? d.layers,
    headDim: partial.headDim ?? d.headDim,
    seqLen: partial.seqLen ?? d.seqLen,
    steps: partial.steps ?? d.steps,
    batch: partial.batch ?? d.batch,
    lr: partial.lr ?? d.lr,
    warmupSteps: partial.warmupSteps ?? Math.min(d.warmupSteps, Math.floor((partial.steps ?? d.steps) / 10)),
    weightDecay: partial.weightDecay ?? d.weightDecay,
    seed: partial.seed ?? d.seed,
    evalEvery: partial.evalEvery ?? d.evalEvery,
    evalLimit: partial.evalLimit ?? d.evalLimit,
  };
  const int = (name: string, v: number, min: number, max: number): void =>
    check(Number.isInteger(v) && v >= min && v <= max, `--${name} must be an integer in [${min}, ${max}], got ${v}`);
  const L = PRETRAIN_LIMITS;
  int("width", spec.width, 2, L.width);
  int("layers", spec.layers, 1, L.layers);
  int("head-dim", spec.headDim, 2, L.width);
  int("seq-len", spec.seqLen, 2, L.seqLen);
  int("steps", spec.steps, 1, L.steps);
  int("batch", spec.batch, 1, L.batch);
  int("warmup-steps", spec.warmupSteps, 0, spec.steps);
  int("seed", spec.seed, 0, 2 ** 31 - 1);
  int("eval-every", spec.evalEvery, 1, L.steps);
  int("eval-limit", spec.evalLimit, 1, L.evalLimit);
  check(Number.isFinite(spec.lr) && spec.lr >= 1e-12 && spec.lr <= 1e3, `--lr must be a number in [1e-12, 1000], got ${spec.lr}`);
  check(Number.isFinite(spec.weightDecay) && spec.weightDecay >= 0 && spec.weightDecay <= 1e3, `--weight-decay must be in [0, 1000], got ${spec.weightDecay}`);
  if (spec.headDim % 2 !== 0) throw new UserError(`--head-dim must be even (RoPE rotates pairs of features), got ${spec.headDim}`);
  if (spec.width % spec.headDim !== 0) {
    throw new UserError(`--width ${spec.width} is not a multiple of --head-dim ${spec.headDim}; the heads must split the width evenly`);
  }
  if (spec.valid === undefined && !isCorpus(spec.data)) {
    throw new UserError(`--data ${spec.data} is a file, so pretraining needs held-out text too: give --valid FILE`);
  }
  const need = trainingBytes(spec, vocabSize);
  if (need > ENGINE_BYTES) {
    const gib = (b: number): string => (b / 2 ** 30).toFixed(1);
    throw new UserError(
      `width ${spec.width} × ${spec.layers} layers at batch ${spec.batch} × ${spec.seqLen} tokens needs about ${gib(need)} GiB ` +
        `of engine memory, more than the ${gib(ENGINE_BYTES)} GiB its WASM heap can use; lower --batch, --seq-len, --width or --layers`,
    );
  }
  return spec;
}

/** The first setting in which two specs differ, as "width 128 (here 256)"; undefined when equal. */
export function specDifference(saved: PretrainSpec, here: PretrainSpec): string | undefined {
  const keys = new Set([...Object.keys(saved), ...Object.keys(here)]) as Set<keyof PretrainSpec>;
  for (const k of keys) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(here[k])) {
      return `${k} ${JSON.stringify(saved[k]) ?? "unset"} (here ${JSON.stringify(here[k]) ?? "unset"})`;
    }
  }
  return undefined;
}

/** The Hugging Face config.json of the spec's model (transformers' LlamaForCausalLM reads it). */
export function pretrainConfigJson(
  spec: PretrainSpec,
  tokens: { vocabSize: number; bos: number; eos: number },
): LlamaConfigJson {
  const heads = spec.width / spec.headDim;
  return llamaConfigJson({
    hidden: spec.width,
    intermediate: intermediateSize(spec.width),
    layers: spec.layers,
    heads,
    kvHeads: heads,
    headDim: spec.headDim,
    vocabSize: tokens.vocabSize,
    positions: spec.seqLen,
    tied: true,
    bos: tokens.bos,
    eos: tokens.eos,
  });
}
