// Optimizers as pure init/update pairs over parameter trees, composed with `chain` (the shape of
// optax's GradientTransformation). An optimizer never touches parameters itself: it turns gradients
// into *updates*, and `applyUpdates` adds them, so every piece (clipping, momentum, Adam moments,
// weight decay, the learning rate) is a separate, testable transform.
//
// Ownership (src/engine/ownership.ts), the same for every transform in this room:
// - `init(params)` borrows `params` (it only reads shapes) and returns an owned state;
// - `update(grads, state, params, step)` consumes `grads` and `state`, borrows `params` and `step`,
//   and returns owned updates and an owned new state;
// - `applyUpdates(params, updates)` consumes both trees and returns the new parameters.
import { type JsTree, type Tensor } from "../engine/index.ts";
import { isTensor, type Params } from "../core/tree.ts";

/**
 * The step number: how many updates were applied before this one (0 for the first update, as in
 * optax's `count` and in the `current_step` of HF's LR lambdas; torch's Adam `step` is this + 1).
 * A plain number outside `jit`; a scalar float32 tensor when the step runs inside `jit`, so one
 * traced function serves every step.
 */
export type Step = number | Tensor;

/** Optimizer state: any tree of tensors (jit-friendly), `{}` for stateless transforms. */
export type OptState = JsTree<Tensor>;

export interface GradientTransformation<S extends OptState = OptState> {
  /** Fresh state for `params`. Borrows `params`. */
  init(params: Params): S;
  /**
   * Turn gradients into updates. Consumes `grads` and `state`; borrows `params` and `step`.
   * `step` is needed by transforms that depend on time (Adam's bias correction, schedules); those
   * throw when it is missing.
   */
  update(grads: Params, state: S, params: Params, step?: Step): [Params, S];
}

/** The step, or a loud error naming the transform that needs it. */
export function requireStep(step: Step | undefined, who: string): Step {
  if (step === undefined) {
    throw new Error(`${who} depends on the step number: call update(grads, state, params, step)`);
  }
  return step;
}

/**
 * Walk two trees of the same structure and build a third from their leaves. The callback owns
 * whatever it is given (callers pass `.ref`s when they keep a tree). Throws on a structure mismatch,
 * which means updates, states and parameters went out of sync.
 */
export function zipMap(
  a: Params,
  b: Params,
  f: (x: Tensor, y: Tensor, path: string) => Tensor,
  prefix = "",
): Params {
  const out: Params = {};
  for (const [k, x] of Object.entries(a)) {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    const y = b[k];
    if (y === undefined) throw new Error(`tree mismatch: the second tree has nothing at ${path}`);
    if (isTensor(x) && isTensor(y)) out[k] = f(x, y, path);
    else if (!isTensor(x) && !isTensor(y)) out[k] = zipMap(x, y, f, path);
    else throw new Error(`tree mismatch at ${path}: a tensor on one side, a subtree on the other`);
  }
  const extra = Object.keys(b).find((k) => !(k in a));
  if (extra !== undefined) {
    throw new Error(`tree mismatch: the first tree has nothing at ${prefix === "" ? extra : `${prefix}.${extra}`}`);
  }
  return out;
}

/** `params + updates`, leaf by leaf. Consumes both trees; returns the new parameters. */
export function applyUpdates(params: Params, updates: Params): Params {
  return zipMap(params, updates, (p, u) => p.add(u));
}

/** The transform that passes gradients through unchanged (the unit of `chain`). */
export function identity(): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update: (grads, state) => [grads, state],
  };
}

/**
 * Apply transforms one after the other: the updates of one are the gradients of the next. The
 * state is the list of the inner states, in order. Every inner transform sees the same `params`
 * and `step` (both borrowed).
 */
export function chain(...transforms: GradientTransformation[]): GradientTransformation<OptState[]> {
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update(grads, state, params, step) {
      if (state.length !== transforms.length) {
        throw new Error(`chain(): state has ${state.length} entries for ${transforms.length} transforms`);
      }
      let u = grads;
      const next: OptState[] = [];
      transforms.forEach((t, i) => {
        const [u2, s2] = t.update(u, state[i] as OptState, params, step);
        u = u2;
        next.push(s2);
      });
      return [u, next];
    },
  };
}
