// lorascope's public API: every export is listed here, so what users may rely on is one file.

// engine: start-up, tensors, transforms, ownership helpers
export {
  initEngine,
  np,
  jnn,
  grad,
  valueAndGrad,
  jit,
  vmap,
  tensor,
  zeros,
  read,
  readAndDispose,
  readScalar,
  refTree,
  disposeTree,
  type Tensor,
  type EngineOptions,
} from "./engine/index.ts";

// core: parameter trees, PRNG keys, user errors
export {
  prng,
  UserError,
  flatten,
  unflatten,
  getPath,
  setPath,
  partition,
  combine,
  modulePaths,
  mapTree,
  type Params,
  type Key,
} from "./core/index.ts";

// nn: layers as params + pure functions
export { linear, mlp, dropout, at, type Ctx } from "./nn/index.ts";

// lora: config, init schemes, LoRA linear, merge/unmerge, injection
export {
  INIT_SCHEMES,
  loraConfig,
  scaling,
  matchesTarget,
  initLoraFactors,
  context as loraContext,
  deltaWeight,
  merge,
  unmerge,
  injectLora,
  splitTrainable,
  type InitScheme,
  type LoraConfig,
  type Injected,
} from "./lora/index.ts";

// optim: transforms, optimizers, schedules, groups, LoRA+
export {
  chain,
  applyUpdates,
  sgd,
  signsgd,
  adam,
  adamw,
  clipByGlobalNorm,
  constantSchedule,
  linearSchedule,
  cosineSchedule,
  paramGroups,
  multiTransform,
  loraPlus,
  type GradientTransformation,
  type Schedule,
} from "./optim/index.ts";

// io: safetensors and PEFT adapter directories
export {
  readSafetensors,
  writeSafetensors,
  saveAdapter,
  loadAdapter,
  applyAdapter,
  summarizeAdapter,
} from "./io/index.ts";

// models: the pretrained USE-lite sentence encoder; data: real labelled text
export * as useLite from "./models/use-lite/index.ts";
export {
  loadSentiment,
  loadSpam,
  stratifiedSplit,
  type TextDataset,
  type TextExample,
  type Splits,
} from "./data/index.ts";

// train: a generic LoRA training step
export { createTrainer, type Trainer, type TrainState } from "./train/trainer.ts";

// analysis, report, coord-check: pure functions of sweep rows and the width-exponent check
export {
  analyzeSweep,
  summaryJson,
  formatSummary,
  type SweepAnalysis,
  type AnalysisOptions,
} from "./analysis/index.ts";
export { writeReport, type ReportInput, type ReportFiles } from "./report/index.ts";
export { runCoordCheck, type CoordCheckResult, type CoordCheckOptions } from "./experiments/coordcheck.ts";

// experiments: the toy sweep (grid → resumable, parallel runs → rows)
export { runToySweep, type SweepOptions, type SweepResult } from "./experiments/toy/runner.ts";
export { toySpec, TOY_DEFAULTS, TOY_QUICK, type ToySpec } from "./experiments/toy/spec.ts";
export type { Row, StepRow, FinalRow, RunKey } from "./experiments/toy/rows.ts";
