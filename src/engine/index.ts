// The engine room: the rest of lorascope imports tensors, transforms and host transfers from here.
export { np, jnn, lax, tree, grad, valueAndGrad, jit, vmap, vjp, blockUntilReady, random } from "./jax.ts";
export type { Tensor, JsTree } from "./jax.ts";
export { initEngine, engineThreads, type EngineOptions } from "./init.ts";
export { tensor, zeros, full, scalar, read, readAndDispose, readScalar, shapeOf, numel, type Shape } from "./host.ts";
export { refTree, disposeTree, trackAllocations, liveBuffers } from "./ownership.ts";
export { profileKernels, type KernelTiming } from "./profile.ts";
export { withDerivative } from "./derivative.ts";
export { contiguous } from "./contiguous.ts";
