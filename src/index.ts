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

// io: safetensors, PEFT adapter directories, llama2.c → Hugging Face Llama (the bundled stories260K)
export {
  readSafetensors,
  writeSafetensors,
  saveAdapter,
  loadAdapter,
  applyAdapter,
  summarizeAdapter,
  loadStories260K,
  loadLlama2c,
  convertLlama2cFiles,
  convertLlama2c,
  writeHfLlama,
  type HfLlamaModel,
  type LlamaConfigJson,
} from "./io/index.ts";
export { loadTokenizer, tokenizerFromJson, type TextTokenizer } from "./models/tokenizer.ts";

// models: causal language models by Hugging Face model_type (lm: config, init, logits, loss, KV-cached
// decoder over every architecture; llama, gpt2: each architecture's own functions)
export * as lm from "./models/lm.ts";
export * as llama from "./models/llama.ts";
export * as gpt2 from "./models/gpt2.ts";
export { loadHfCheckpoint, loadCausalLM, type CausalLM } from "./io/hf-checkpoint.ts";
// generation (KV cache, greedy or seeded nucleus sampling, streamed text) and adapters merged into an LM
export { generate, TextStream, type GenerateOptions, type Generation } from "./models/generate.ts";
export { sampleToken, argmax, type SamplingOptions } from "./models/sample.ts";
export {
  loadLm,
  loadLmTokenizer,
  withAdapter,
  mergedWeights,
  writeMergedFolder,
  type LoadedLm,
  type LmTokenizerInfo,
} from "./io/lm-model.ts";

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

// data: text for language models — built-in corpora split by document, the user's files, [B, T] batches
export {
  loadSotu,
  sotuSplits,
  loadBrown,
  brownSplits,
  brownText,
  BROWN_GENRES,
  loadLmText,
  BUILT_IN_CORPORA,
  trainBatches,
  evalBatches,
  makeBatch,
  padLengths,
  maskedTokenLoss,
  combineTokenLosses,
  SPLIT_NAMES,
  type TextDocument,
  type DocumentSplits,
  type SplitName,
  type SotuSpeech,
  type BrownGenre,
  type LmTokenizer,
  type LmTextOptions,
  type LmSequences,
  type LmBatch,
  type LmBatchOptions,
  type TokenLoss,
} from "./data/index.ts";

// train: a generic LoRA training step
export { createTrainer, type Trainer, type TrainState } from "./train/trainer.ts";
// train: the loop around the step (metrics.jsonl, evaluation cadence, early stopping, checkpoints)
export { runLoop, type LoopOptions, type LoopResult, type LoopState, type StepOutput } from "./train/loop.ts";
export { openMetrics, readMetrics, nullSink, METRICS_FILE, type MetricsSink, type MetricsRecord } from "./train/metrics.ts";
export { observe, isEvalStep, EARLY_STOP_START, type EarlyStopState, type MetricMode } from "./train/early-stop.ts";
export { saveCheckpoint, loadCheckpoint, checkpointDir, CHECKPOINT_DIR, type Checkpoint } from "./train/checkpoint.ts";
export { finetuneOptimizer, scheduleOf, type ExtraGroup } from "./train/optimizer.ts";
export {
  SCHEDULES,
  OPTIMIZER_DEFAULTS,
  checkOptimizerOptions,
  type OptimizerOptions,
  type ScheduleName,
} from "./train/options.ts";

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
