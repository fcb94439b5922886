// LoRA+ (Hayou, Ghosh & Yu 2024b, arXiv 2402.12354): train B with a learning rate `ratio` times A's.
// The grouping rule is PEFT's `create_loraplus_optimizer` (huggingface/peft
// src/peft/optimizers/loraplus.py at 0460dcd; the same four groups as the authors'
// nikhil-ghosh-berkeley/loraplus `lora_plus.py` at a0c44bf), checked in this order:
//
//   embedding        the parameter belongs to a LoRA Embedding    lr = loraplus_lr_embedding (1e-6)
//   groupB           "lora_B" in the name OR the parameter is 1-D  lr = lr × loraplus_lr_ratio
//   groupB_no_decay  as groupB, but a LayerNorm or bias parameter  lr = lr × ratio, weight decay 0
//   groupA           everything else (lora_A, 2-D head weights)    lr = lr
//
// Note the 1-D clause: every trainable bias and LayerNorm weight gets the B rate. Each clause is a
// rule the caller can replace (`LoraPlusRules`); the defaults reproduce PEFT.
import type { Tensor } from "../engine/index.ts";
import { check } from "../core/errors.ts";
import type { GradientTransformation, OptState } from "./transform.ts";
import { scaleLearningRate, type LearningRate } from "./schedules.ts";
import { paramGroups, type Labeller } from "./groups.ts";

export const LORAPLUS_GROUPS = ["groupA", "embedding", "groupB", "groupB_no_decay"] as const;
export type LoraPlusGroup = (typeof LORAPLUS_GROUPS)[number];

export interface LoraPlusRules {
  /**
   * The parameter belongs to a LoRA Embedding module. PEFT tests the owning module's class; on
   * paths, a LoRA Embedding's factors are `lora_embedding_A` / `lora_embedding_B`.
   */
  isEmbedding: (path: string, param: Tensor) => boolean;
  /** The B-factor clause of groupB. PEFT: `"lora_B" in name`. */
  isLoraB: (path: string, param: Tensor) => boolean;
  /** Whether 1-D parameters (biases, norm weights) also join groupB. PEFT: yes (`param.ndim == 1`). */
  oneDimIsB: boolean;
  /**
   * Within groupB: no weight decay. PEFT: not in `decay_parameters`, i.e. inside a LayerNorm
   * (transformers' ALL_LAYERNORM_LAYERS, which includes RMSNorm) or with "bias" in the name.
   */
  isNoDecay: (path: string, param: Tensor) => boolean;
}

const pathParts = (path: string): string[] => path.split(".");

/**
 * The owning module is a norm layer: its name contains "norm" (LayerNorm, layer_norm,
 * input_layernorm, RMSNorm) or starts with "ln" (ln_f, ln_1).
 */
export function isLayerNormPath(path: string): boolean {
  const parts = pathParts(path);
  const module = parts[parts.length - 2];
  return module !== undefined && (/norm/i.test(module) || /^ln(_|\d|$)/i.test(module));
}

export const PEFT_LORAPLUS_RULES: LoraPlusRules = {
  isEmbedding: (path) => pathParts(path).some((p) => p === "lora_embedding_A" || p === "lora_embedding_B"),
  isLoraB: (path) => path.includes("lora_B"),
  oneDimIsB: true,
  isNoDecay: (path) => path.includes("bias") || isLayerNormPath(path),
};

/** The labelling function of LoRA+, PEFT's rules overridden by `rules`. */
export function loraPlusLabel(rules: Partial<LoraPlusRules> = {}): Labeller {
  const r: LoraPlusRules = { ...PEFT_LORAPLUS_RULES, ...rules };
  return (path, param): LoraPlusGroup => {
    if (r.isEmbedding(path, param)) return "embedding";
    if (r.isLoraB(path, param) || (r.oneDimIsB && param.ndim === 1)) {
      return r.isNoDecay(path, param) ? "groupB_no_decay" : "groupB";
    }
    return "groupA";
  };
}

/** Per-group hyper-parameters handed to the optimizer factory. */
export interface GroupHyper {
  lr: LearningRate;
  weightDecay: number;
}

export interface LoraPlusOptions<H extends GroupHyper> {
  /** Builds one group's optimizer, e.g. `(h) => adamw(h)`. */
  optimizer: (hyper: H) => GradientTransformation;
  /** Hyper-parameters shared by all groups (betas, eps, …); lr and weightDecay are set per group. */
  defaults: H;
  /** η_B / η_A; the LoRA+ paper suggests ≥ 1 (PEFT's docs example uses 16). */
  loraplus_lr_ratio: number;
  /**
   * Learning rate of LoRA embedding factors (PEFT default 1e-6). A fixed number here stays fixed
   * even when `defaults.lr` is a schedule; pass a schedule to decay it as HF's LambdaLR would.
   */
  loraplus_lr_embedding?: LearningRate;
  rules?: Partial<LoraPlusRules>;
}

/** A LoRA+ optimizer: `optimizer` built four times with PEFT's per-group lr and weight decay. */
export function loraPlus<H extends GroupHyper>(
  o: LoraPlusOptions<H>,
): GradientTransformation<Record<string, OptState>> {
  const ratio = o.loraplus_lr_ratio;
  check(Number.isFinite(ratio) && ratio > 0, `loraplus_lr_ratio must be a positive number, got ${String(ratio)}`);
  const lr = o.defaults.lr;
  const lrB = scaleLearningRate(lr, ratio);
  const groups: Record<LoraPlusGroup, Partial<H>> = {
    groupA: {},
    embedding: { lr: o.loraplus_lr_embedding ?? 1e-6 } as Partial<H>,
    groupB: { lr: lrB } as Partial<H>,
    groupB_no_decay: { lr: lrB, weightDecay: 0 } as Partial<H>,
  };
  return paramGroups({ optimizer: o.optimizer, defaults: o.defaults, groups, label: loraPlusLabel(o.rules ?? {}) });
}
