// The encoder study's one typed spec: every finetune choice is a field with a default, filled and
// validated once here (encoderSpec), whether the run comes from `lorascope finetune` or a sweep cell.
import { UserError, check } from "../../core/errors.ts";
import { loraConfig, LORA_DEFAULTS, type InitScheme, type LoraConfig } from "../../lora/config.ts";
import { checkOptimizerOptions, OPTIMIZER_DEFAULTS, type ScheduleName } from "../../train/options.ts";

export const ENCODER_TASKS = ["sentiment", "spam"] as const;
export type EncoderTask = (typeof ENCODER_TASKS)[number];
export const ENCODER_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "fc1", "fc2"] as const;
/**
 * Where the new head starts: "random" (PyTorch's nn.Linear init from fold(root, "classifier"), the
 * probe's own starting point) or "probe" — the linear probe's trained head, so that the finetune
 * starts exactly at the probe (under Init[A] and Init[B], B·A = 0) and LoRA only has to improve on
 * it: linear probing then finetuning, LP-FT (Kumar et al., ICLR 2022, "Fine-Tuning can Distort
 * Pretrained Features and Underperform Out-of-Distribution", §4).
 */
export const HEAD_INITS = ["random", "probe"] as const;
export type HeadInit = (typeof HEAD_INITS)[number];

export interface EncoderFinetuneSpec {
  /** A built-in task, or absent when `data` names the user's folder (exactly one of the two). */
  readonly task?: EncoderTask;
  /** A folder with train.jsonl, valid.jsonl and test.jsonl (data/labelled-jsonl.ts). */
  readonly data?: string;
  readonly init: InitScheme;
  readonly lr: number;
  /**
   * Peak learning rate of the new head `classifier` (trained in full). Separate from `lr` so that the
   * swept LoRA rate is the only thing a sweep varies (at a LoRA-sized rate the head's own progress
   * would change with every swept rate). Default 1e-2, the probe's rate.
   */
  readonly headLr: number;
  readonly headInit: HeadInit;
  readonly epochs: number;
  readonly r: number;
  readonly loraAlpha: number;
  readonly seed: number;
  /** Train on a stratification-free random subsample of this many training examples. */
  readonly limit?: number;
  /** Evaluate on at most this many validation and test examples (a random subsample of each). */
  readonly evalLimit?: number;
  readonly batch: number;
  /** Share of the steps spent warming up linearly (HF get_linear_schedule_with_warmup). */
  readonly warmupFraction: number;
  readonly weightDecay: number;
  /** Measure the per-module dynamics (dynamics.ts) every this many steps; 0: never. */
  readonly dynamicsEvery: number;
  /** PEFT target_modules: module names matched against each path's last part. */
  readonly targetModules: readonly string[];
  /** PEFT lora_dropout on the adapter's input while training. */
  readonly dropout: number;
  /** PEFT use_rslora: scaling lora_alpha/√r. */
  readonly useRslora: boolean;
  /** LoRA+ η_B/η_A (absent: off). */
  readonly loraplusLrRatio?: number;
  readonly schedule: ScheduleName;
  /** Warmup in steps; absent: `warmupFraction` of the steps. */
  readonly warmupSteps?: number;
  /** Global gradient-norm clip (absent: off). */
  readonly gradClip?: number;
  /** Evaluate on validation every this many steps; absent: once per epoch. */
  readonly evalEvery?: number;
  /** Stop after this many evaluations without a lower validation loss; absent: never. */
  readonly earlyStopPatience?: number;
}

export const ENCODER_DEFAULTS: Omit<EncoderFinetuneSpec, "task" | "data" | "init" | "lr"> = {
  headLr: 1e-2,
  headInit: "random",
  epochs: 1,
  r: 8,
  loraAlpha: 8,
  seed: 0,
  batch: 32,
  warmupFraction: 0.1,
  weightDecay: 0.01,
  dynamicsEvery: 10,
  targetModules: ENCODER_TARGET_MODULES,
  dropout: LORA_DEFAULTS.lora_dropout,
  useRslora: LORA_DEFAULTS.use_rslora,
  schedule: OPTIMIZER_DEFAULTS.schedule,
};

/** The options that change a run only when given (absent in runs made before they existed). */
export const ENCODER_OPTIONAL_FIELDS = ["loraplusLrRatio", "warmupSteps", "gradClip", "evalEvery", "earlyStopPatience"] as const;

/** The run's data as one word for progress lines and tables: the task, or the data folder's name. */
export function dataName(spec: Pick<EncoderFinetuneSpec, "task" | "data">): string {
  return spec.task ?? spec.data?.replace(/\/+$/, "").split("/").at(-1) ?? "?";
}

/** The grid `lorascope sweep` runs when none is given: three rates around AdamW's usual 1e-3, both inits, one seed. */
export const ENCODER_SWEEP_DEFAULTS: {
  readonly lrs: readonly number[];
  readonly inits: readonly InitScheme[];
  readonly seeds: number;
} = {
  lrs: [3e-4, 1e-3, 3e-3],
  inits: ["init-a", "init-b"],
  seeds: 1,
};

/** The adapter of a finetune: PEFT's LoraConfig over every projection of the encoder, the head saved in full. */
export function encoderLoraConfig(
  spec: Pick<EncoderFinetuneSpec, "r" | "loraAlpha" | "init"> &
    Partial<Pick<EncoderFinetuneSpec, "targetModules" | "dropout" | "useRslora">>,
): LoraConfig {
  return loraConfig({
    r: spec.r,
    lora_alpha: spec.loraAlpha,
    init_lora_weights: spec.init,
    target_modules: [...(spec.targetModules ?? ENCODER_TARGET_MODULES)],
    lora_dropout: spec.dropout ?? LORA_DEFAULTS.lora_dropout,
    use_rslora: spec.useRslora ?? LORA_DEFAULTS.use_rslora,
    modules_to_save: ["classifier"],
  });
}

/**
 * Upper bounds of a finetune's settings. The rank is bounded by the encoder's projections (hidden
 * size 512: a rank above the smaller side of a layer adds no capacity); the batch by memory (every
 * layer's activations of a batch of up to 128-token examples are held for the backward pass, about
 * 2 MiB per example, under the engine's 4 GiB heap); counts by what a study can use.
 */
export const ENCODER_LIMITS = {
  maxRank: 512,
  maxBatch: 1024,
  maxEpochs: 1000,
  /** A denormal or sub-1e-12 rate is not a learning rate; above 10 AdamW only diverges. */
  minLr: 1e-12,
  maxLr: 10,
  maxExamples: 10_000_000,
  maxSeed: 2 ** 31 - 1,
  maxSeeds: 1000,
  maxDynamicsEvery: 1_000_000,
} as const;

function posInt(name: string, v: number | undefined): void {
  if (v !== undefined) check(Number.isInteger(v) && v > 0, `${name} must be a positive integer, got ${v}`);
}

function posNum(name: string, v: number): void {
  check(v > 0 && Number.isFinite(v), `${name} must be a positive number, got ${v}`);
}

/**
 * Fill the defaults and validate; throws a UserError naming the first bad field. `task`, `init` and
 * `lr` have no default: they are what a finetune is about.
 */
export function encoderSpec(
  partial: Partial<EncoderFinetuneSpec> & Pick<EncoderFinetuneSpec, "init" | "lr">,
): EncoderFinetuneSpec {
  const s: EncoderFinetuneSpec = { ...ENCODER_DEFAULTS, ...partial };
  if (s.task !== undefined && s.data !== undefined) {
    throw new UserError("give either a built-in task or a data folder, not both");
  }
  if (s.task === undefined && s.data === undefined) throw new UserError("give a built-in task or a data folder");
  if (s.task !== undefined && !(ENCODER_TASKS as readonly string[]).includes(s.task))
    throw new UserError(`task "${s.task}" is unknown; use one of ${ENCODER_TASKS.join(", ")}`);
  check(s.targetModules.length > 0, "target modules must name at least one module");
  for (const m of s.targetModules) {
    const last = m.split(".").at(-1) ?? m;
    check(
      (ENCODER_TARGET_MODULES as readonly string[]).includes(last),
      `target module "${m}" is not a module of the encoder; use ${ENCODER_TARGET_MODULES.join(", ")} (or a path ending in one)`,
    );
  }
  checkOptimizerOptions({ ...s, warmupSteps: s.warmupSteps ?? 0 });
  posInt("evalEvery", s.evalEvery);
  posInt("earlyStopPatience", s.earlyStopPatience);
  posNum("lr", s.lr);
  posNum("head lr", s.headLr);
  const L = ENCODER_LIMITS;
  const within = (name: string, v: number | undefined, lo: number, hi: number): void =>
    check(v === undefined || (v >= lo && v <= hi), `${name} must be between ${lo} and ${hi}, got ${v}`);
  within("lr", s.lr, L.minLr, L.maxLr);
  within("head lr", s.headLr, L.minLr, L.maxLr);
  within("r", s.r, 1, L.maxRank);
  within("batch", s.batch, 1, L.maxBatch);
  within("epochs", s.epochs, 1, L.maxEpochs);
  within("limit", s.limit, 1, L.maxExamples);
  within("evalLimit", s.evalLimit, 1, L.maxExamples);
  within("seed", s.seed, 0, L.maxSeed);
  within("dynamicsEvery", s.dynamicsEvery, 0, L.maxDynamicsEvery);
  posInt("epochs", s.epochs);
  posInt("batch", s.batch);
  posInt("limit", s.limit);
  posInt("evalLimit", s.evalLimit);
  check(Number.isInteger(s.seed) && s.seed >= 0, `seed must be a non-negative integer, got ${s.seed}`);
  check(s.warmupFraction >= 0 && s.warmupFraction < 1, `warmupFraction must be in [0, 1), got ${s.warmupFraction}`);
  check(
    s.weightDecay >= 0 && Number.isFinite(s.weightDecay),
    `weightDecay must be a non-negative number, got ${s.weightDecay}`,
  );
  check(
    Number.isInteger(s.dynamicsEvery) && s.dynamicsEvery >= 0,
    `dynamicsEvery must be a non-negative integer, got ${s.dynamicsEvery}`,
  );
  encoderLoraConfig(s); // r, loraAlpha and init, checked by the PEFT config's own rules
  if (!(HEAD_INITS as readonly string[]).includes(s.headInit)) {
    throw new UserError(`head init "${s.headInit}" is not known; use one of ${HEAD_INITS.join(", ")}`);
  }
  return s;
}
