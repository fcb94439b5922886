// The language-model width study (`lorascope reproduce --study lm`): a family of Llama-architecture
// models that differ only in width, each pretrained here on the same tokens, then LoRA-finetuned on a
// domain none of them saw, over learning rate × init × seed. One typed spec with defaults and the
// --quick grid; free of engine imports, so the CLI reads it at load time.
//
// Data: pretraining on State of the Union addresses up to 1980 (`sotu`, its train split); finetuning
// on the Brown corpus's "learned" genre (`brown:learned`: academic prose of 1961, split by document),
// which neither the addresses nor TinyStories (stories260K's pretraining) contain. Every width uses
// stories260K's 512-piece tokenizer, so the token streams are identical across the family.
import { UserError, check } from "../../core/errors.ts";
import { INIT_SCHEMES, type InitScheme } from "../../lora/config.ts";
import { PRETRAIN_LIMITS, pretrainSpec, type PretrainSpec } from "./pretrain-spec.ts";

export interface LmStudySpec {
  readonly widths: readonly number[];
  readonly layers: number;
  readonly headDim: number;
  /** Sequence length of pretraining and finetuning (the models' positions). */
  readonly seqLen: number;
  /** Pretraining text (a built-in corpus; its train split) and settings, the same for every width. */
  readonly pretrainData: string;
  /** Held-out text of pretraining when pretrainData is a file (a corpus uses its validation split). */
  readonly pretrainValid?: string;
  readonly pretrainSteps: number;
  readonly pretrainBatch: number;
  readonly pretrainLr: number;
  /** Finetuning text: a built-in corpus not seen in pretraining (train, validation and test splits). */
  readonly finetuneData: string;
  /** Held-out text of finetuning when finetuneData is a file. */
  readonly finetuneValid?: string;
  readonly lrs: readonly number[];
  readonly inits: readonly InitScheme[];
  /** Seeds 0 … seeds − 1 of the adapters and batch order (the base models do not depend on them). */
  readonly seeds: number;
  readonly steps: number;
  readonly batch: number;
  readonly rank: number;
  /** Held-out sequences per evaluation (validation for η*, test for the best perplexity). */
  readonly evalLimit: number;
  /** Measure the LoRA dynamics every this many finetuning steps. */
  readonly dynamicsEvery: number;
}

/** `lo … hi`, `count` points evenly spaced in log. */
export function logGrid(lo: number, hi: number, count: number): number[] {
  if (count === 1) return [lo];
  return Array.from({ length: count }, (_, i) => Number((lo * (hi / lo) ** (i / (count - 1))).toPrecision(6)));
}

export const LM_STUDY_DEFAULTS: LmStudySpec = {
  widths: [32, 64, 128, 256],
  layers: 2,
  headDim: 16,
  seqLen: 128,
  pretrainData: "sotu",
  pretrainSteps: 400,
  pretrainBatch: 16,
  pretrainLr: 3e-3,
  finetuneData: "brown:learned",
  lrs: logGrid(5e-4, 3e-1, 9),
  inits: ["init-a", "init-b"],
  seeds: 3,
  steps: 40,
  batch: 8,
  rank: 4,
  evalLimit: 48,
  dynamicsEvery: 10,
};

/** Two widths, a short grid, one seed: the whole pipeline in a few minutes. */
export const LM_STUDY_QUICK: Partial<LmStudySpec> = {
  widths: [32, 64],
  seqLen: 64,
  pretrainSteps: 60,
  pretrainBatch: 8,
  lrs: logGrid(1e-3, 1e-1, 3),
  seeds: 1,
  steps: 15,
  evalLimit: 16,
  dynamicsEvery: 5,
};

export const LM_STUDY_LIMITS = { widths: 16, lrs: 64, seeds: 100 } as const;

/** The pretraining spec of one width: identical for every width but the width. */
export function familyMember(s: LmStudySpec, width: number): PretrainSpec {
  return pretrainSpec({
    data: s.pretrainData,
    ...(s.pretrainValid === undefined ? {} : { valid: s.pretrainValid }),
    width,
    layers: s.layers,
    headDim: s.headDim,
    seqLen: s.seqLen,
    steps: s.pretrainSteps,
    batch: s.pretrainBatch,
    lr: s.pretrainLr,
    seed: 0,
    evalEvery: s.pretrainSteps,
  });
}

/** Defaults filled in and checked: widths distinct, each a valid family member; the grid bounded. */
export function lmStudySpec(partial: Partial<LmStudySpec> = {}): LmStudySpec {
  const s: LmStudySpec = { ...LM_STUDY_DEFAULTS, ...partial };
  const distinct = <T>(name: string, xs: readonly T[]): void => {
    const twice = xs.find((x, i) => xs.indexOf(x) !== i);
    if (twice !== undefined) throw new UserError(`--${name} lists ${String(twice)} more than once; give each once`);
  };
  check(s.widths.length >= 1 && s.widths.length <= LM_STUDY_LIMITS.widths, `--widths takes 1 to ${LM_STUDY_LIMITS.widths} widths`);
  check(s.lrs.length >= 1 && s.lrs.length <= LM_STUDY_LIMITS.lrs, `--lrs takes 1 to ${LM_STUDY_LIMITS.lrs} learning rates`);
  check(s.inits.length >= 1, "--inits needs at least one init");
  for (const i of s.inits) check((INIT_SCHEMES as readonly string[]).includes(i), `--inits: "${i}" is not known`);
  check(Number.isInteger(s.seeds) && s.seeds >= 1 && s.seeds <= LM_STUDY_LIMITS.seeds, `--seeds must be 1 to ${LM_STUDY_LIMITS.seeds}`);
  for (const [name, v, max] of [
    ["steps", s.steps, PRETRAIN_LIMITS.steps],
    ["batch", s.batch, PRETRAIN_LIMITS.batch],
    ["rank", s.rank, 65_536],
    ["eval-limit", s.evalLimit, PRETRAIN_LIMITS.evalLimit],
  ] as const) {
    check(Number.isInteger(v) && v >= 1 && v <= max, `--${name} must be an integer in [1, ${max}], got ${v}`);
  }
  check(Number.isInteger(s.dynamicsEvery) && s.dynamicsEvery >= 1, `--dynamics-every must be a positive integer, got ${s.dynamicsEvery}`);
  for (const lr of s.lrs) check(Number.isFinite(lr) && lr >= 1e-12 && lr <= 1e3, `--lrs values must be in [1e-12, 1000], got ${lr}`);
  distinct("widths", s.widths);
  distinct("lrs", s.lrs);
  distinct("inits", s.inits);
  if (s.pretrainData === s.finetuneData) {
    throw new UserError(`the finetuning text ${s.finetuneData} is the pretraining text; the study finetunes on a domain the models have not seen`);
  }
  for (const w of s.widths) {
    if (s.rank > w) throw new UserError(`--rank ${s.rank} is more than the width ${w}; LoRA's rank is at most the width`);
    familyMember(s, w); // each width's pretraining settings are checked (head split, memory) before any work
  }
  return { ...s, widths: [...s.widths].sort((a, b) => a - b) };
}
