export { type Ctx, type LinearHook, at } from "./context.ts";
export * as linear from "./linear.ts";
export type { LinearParams } from "./linear.ts";
export * as mlp from "./mlp.ts";
export type { MlpParams, MlpConfig, Activation } from "./mlp.ts";
export * as dropout from "./dropout.ts";
export * as activation from "./activation.ts";
