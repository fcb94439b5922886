// The one file in lorascope that imports @jax-js/jax (pinned to an exact version in package.json).
// Everything else imports the engine through `src/engine/index.ts`, so an upgrade or a swap of the
// engine touches this folder only.
// threads.ts must be evaluated before @jax-js/jax: it installs the Worker shim the wasm backend
// looks for while jax-js loads (see threads.ts).
import "./threads.ts";
export {
  numpy as np,
  nn as jnn,
  lax,
  tree,
  grad,
  valueAndGrad,
  jit,
  vmap,
  vjp,
  blockUntilReady,
  random,
} from "@jax-js/jax";
export type { Array as Tensor, JsTree } from "@jax-js/jax";
/** The engine module's own type, for tests that load a second copy of it side by side. */
export type JaxModule = typeof import("@jax-js/jax");
