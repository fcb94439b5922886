// The optim room: optimizers as pure init/update transforms over parameter trees, composed with
// `chain`; schedules as pure functions of the step; parameter groups and LoRA+ as labelled
// multi-transforms.
export {
  type Step,
  type OptState,
  type GradientTransformation,
  chain,
  identity,
  applyUpdates,
  zipMap,
} from "./transform.ts";
export {
  type Schedule,
  type LearningRate,
  type WarmupOptions,
  type CosineOptions,
  constantSchedule,
  linearSchedule,
  cosineSchedule,
  scaleLearningRate,
  lrAt,
} from "./schedules.ts";
export {
  type AdamMoments,
  scaleByLearningRate,
  scale,
  addDecayedWeights,
  trace,
  scaleBySign,
  scaleByAdam,
  clipByGlobalNorm,
} from "./transforms.ts";
export {
  type SgdOptions,
  type SignSgdOptions,
  type AdamOptions,
  sgd,
  signsgd,
  adam,
  adamw,
} from "./optimizers.ts";
export { type Labeller, multiTransform, paramGroups } from "./groups.ts";
export {
  LORAPLUS_GROUPS,
  type LoraPlusGroup,
  type LoraPlusRules,
  type LoraPlusOptions,
  type GroupHyper,
  PEFT_LORAPLUS_RULES,
  isLayerNormPath,
  loraPlusLabel,
  loraPlus,
} from "./loraplus.ts";
