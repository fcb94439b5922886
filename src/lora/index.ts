// The public API of the lora room.
export {
  INIT_SCHEMES,
  LORA_DEFAULTS,
  loraConfig,
  scaling,
  matchesTarget,
  type InitScheme,
  type LoraConfig,
} from "./config.ts";
export { initLoraFactors, type FactorDims, type InitOptions, type InitFactors } from "./init.ts";
export { context, loraLinear, hasLora, type LoraLinearParams, type LoraContextOptions, type Tap } from "./linear.ts";
export { deltaWeight, merge, unmerge, isLoraPath, loraModulePaths, type Merged } from "./merge.ts";
export { injectLora, splitTrainable, type Injected } from "./inject.ts";
