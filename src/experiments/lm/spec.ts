// The language-model study's one typed spec: every finetune choice is a field with a default, filled
// and validated once here (lmSpec), whether the run comes from `lorascope finetune` or a sweep cell.
// Free of engine imports, so the CLI's flag table can read its defaults at load time.
import { UserError, check } from "../../core/errors.ts";
import { INIT_SCHEMES, loraConfig, type InitScheme, type LoraConfig } from "../../lora/config.ts";
import { BUILT_IN_CORPORA } from "../../data/lm-text.ts";
import { checkOptimizerOptions, type ScheduleName } from "../../train/options.ts";

/** `--target-modules all-linear`: every linear layer but the output head (PEFT's "all-linear"). */
export const ALL_LINEAR = "all-linear";

/**
 * The modules adapted when none are named, per architecture, as PEFT's table has them
 * (peft src/peft/utils/constants.py TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).
 */
export const DEFAULT_TARGET_MODULES = {
  llama: ["q_proj", "v_proj"],
  gpt2: ["c_attn"],
} as const satisfies Record<string, readonly string[]>;

/**
 * What "all-linear" means per architecture: every linear (GPT-2: Conv1D) module's name, the output
 * head excluded (peft src/peft/tuners/tuners_utils.py `_maybe_include_all_linear_layers`).
 */
export const ALL_LINEAR_MODULES = {
  llama: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  gpt2: ["c_attn", "c_proj", "c_fc"],
} as const satisfies Record<keyof typeof DEFAULT_TARGET_MODULES, readonly string[]>;

export type LmArchitecture = keyof typeof DEFAULT_TARGET_MODULES;

export interface LmFinetuneSpec {
  /** "stories260K" (bundled) or a Hugging Face model folder. */
  readonly model: string;
  /** Training text: a .txt or .jsonl file, or a built-in corpus (sotu, brown, brown:<genre>). */
  readonly data: string;
  /** Held-out text; a built-in corpus defaults to its own validation split. */
  readonly valid?: string;
  readonly init: InitScheme;
  readonly lr: number;
  /** Optimizer steps; exclusive with `epochs`. When neither is given, one epoch. */
  readonly steps?: number;
  readonly epochs?: number;
  readonly batch: number;
  /** Longest training sequence in tokens; at most the model's positions. */
  readonly seqLen: number;
  readonly r: number;
  readonly loraAlpha: number;
  /** Module names (PEFT target_modules), or ["all-linear"]; empty: the architecture's default. */
  readonly targetModules: readonly string[];
  readonly seed: number;
  /** PEFT lora_dropout on each adapter's input while training; absent: 0. */
  readonly dropout?: number;
  /** rsLoRA: scaling lora_alpha/√r instead of lora_alpha/r. */
  readonly useRslora: boolean;
  /** Learning-rate schedule after warmup (train/optimizer.ts). */
  readonly schedule: ScheduleName;
  /** Share of the steps spent warming up linearly (HF get_linear_schedule_with_warmup). */
  readonly warmupFraction: number;
  /** Steps of warmup; overrides warmupFraction. */
  readonly warmupSteps?: number;
  readonly weightDecay: number;
  /** Clip the global gradient norm to this; absent: no clipping. */
  readonly gradClip?: number;
  /** LoRA+: η_B / η_A; absent: one rate. */
  readonly loraplusLrRatio?: number;
  /** Evaluate the validation loss every this many steps (absent: only after the last step). */
  readonly evalEvery?: number;
  /** Stop after this many evaluations without a lower validation loss (absent: never). */
  readonly earlyStopPatience?: number;
  /** Measure the per-module dynamics every this many steps; 0: never. */
  readonly dynamicsEvery: number;
  /** Evaluate on at most this many sequences of each held-out set (its first ones). */
  readonly evalLimit?: number;
}

export const LM_DEFAULTS: Omit<LmFinetuneSpec, "model" | "data" | "init" | "lr"> = {
  batch: 8,
  seqLen: 128,
  r: 8,
  loraAlpha: 16,
  targetModules: [],
  seed: 0,
  useRslora: false,
  schedule: "linear",
  warmupFraction: 0.05,
  weightDecay: 0,
  dynamicsEvery: 25,
};

/** The target_modules a run adapts on `arch`. */
export function lmTargetModules(spec: Pick<LmFinetuneSpec, "targetModules">, arch: LmArchitecture): string[] {
  if (spec.targetModules.length === 0) return [...DEFAULT_TARGET_MODULES[arch]];
  if (spec.targetModules.includes(ALL_LINEAR)) return [...ALL_LINEAR_MODULES[arch]];
  return [...spec.targetModules];
}

/** The adapter of a finetune: PEFT's LoraConfig over the run's target modules. */
export function lmLoraConfig(
  spec: Pick<LmFinetuneSpec, "r" | "loraAlpha" | "init" | "targetModules" | "useRslora" | "dropout">,
  arch: LmArchitecture,
): LoraConfig {
  return loraConfig({
    r: spec.r,
    lora_alpha: spec.loraAlpha,
    use_rslora: spec.useRslora,
    lora_dropout: spec.dropout ?? 0,
    init_lora_weights: spec.init,
    target_modules: lmTargetModules(spec, arch),
  });
}

const isCorpus = (spec: string): boolean => (BUILT_IN_CORPORA as readonly string[]).includes(spec);

/** The held-out text of a run: --valid, else a built-in corpus's own validation split, else none. */
export function validationOf(spec: Pick<LmFinetuneSpec, "valid" | "data">): string | undefined {
  return spec.valid ?? (isCorpus(spec.data) ? spec.data : undefined);
}

/** A built-in corpus has a test split too. */
export const hasTestSplit = (spec: Pick<LmFinetuneSpec, "data">): boolean => isCorpus(spec.data);

function posInt(name: string, v: number | undefined): void {
  if (v !== undefined) check(Number.isInteger(v) && v > 0, `${name} must be a positive integer, got ${v}`);
}

/**
 * Fill the defaults and validate; throws a UserError naming the first bad field. `model`, `data`,
 * `init` and `lr` have no default: they are what a finetune is about.
 */
export function lmSpec(
  partial: Partial<LmFinetuneSpec> & Pick<LmFinetuneSpec, "model" | "data" | "init" | "lr">,
): LmFinetuneSpec {
  const s: LmFinetuneSpec = { ...LM_DEFAULTS, ...partial };
  check(s.model !== "", "model must name stories260K or a Hugging Face model folder");
  check(s.data !== "", "data must name a .txt or .jsonl file or a built-in corpus");
  if (!(INIT_SCHEMES as readonly string[]).includes(s.init)) {
    throw new UserError(`init "${s.init}" is not known; use one of ${INIT_SCHEMES.join(", ")}`);
  }
  check(s.lr > 0 && Number.isFinite(s.lr), `lr must be a positive number, got ${s.lr}`);
  if (s.steps !== undefined && s.epochs !== undefined) throw new UserError("give steps or epochs, not both");
  posInt("steps", s.steps);
  posInt("epochs", s.epochs);
  posInt("batch", s.batch);
  posInt("evalLimit", s.evalLimit);
  check(Number.isInteger(s.seqLen) && s.seqLen >= 2, `seqLen must be an integer of at least 2, got ${s.seqLen}`);
  check(Number.isInteger(s.seed) && s.seed >= 0, `seed must be a non-negative integer, got ${s.seed}`);
  check(s.warmupFraction >= 0 && s.warmupFraction < 1, `warmupFraction must be in [0, 1), got ${s.warmupFraction}`);
  check(s.weightDecay >= 0 && Number.isFinite(s.weightDecay), `weightDecay must be a non-negative number, got ${s.weightDecay}`);
  check(
    Number.isInteger(s.dynamicsEvery) && s.dynamicsEvery >= 0,
    `dynamicsEvery must be a non-negative integer, got ${s.dynamicsEvery}`,
  );
  if (s.targetModules.includes(ALL_LINEAR) && s.targetModules.length > 1) {
    throw new UserError(`target modules "${ALL_LINEAR}" stands alone; got ${s.targetModules.join(",")}`);
  }
  posInt("evalEvery", s.evalEvery);
  posInt("earlyStopPatience", s.earlyStopPatience);
  if (s.earlyStopPatience !== undefined && validationOf(s) === undefined) {
    throw new UserError("early stopping watches the validation loss: give --valid (or a built-in corpus as --data)");
  }
  checkOptimizerOptions({
    schedule: s.schedule,
    warmupSteps: s.warmupSteps ?? 0,
    weightDecay: s.weightDecay,
    ...(s.gradClip === undefined ? {} : { gradClip: s.gradClip }),
    ...(s.loraplusLrRatio === undefined ? {} : { loraplusLrRatio: s.loraplusLrRatio }),
  });
  lmLoraConfig(s, "llama"); // r, loraAlpha and init, checked by the PEFT config's own rules
  return s;
}
