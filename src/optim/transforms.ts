// The building blocks that optimizers are chained from. Each is one line of a PyTorch 1.13
// optimizer (torch/optim/{sgd,adam,adamw}.py, `_single_tensor_*`), written as a transform of the
// updates; the file/line each one mirrors is named in its comment.
// Ownership: see transform.ts — update consumes grads and state, borrows params and step.
import { np, zeros, type Tensor } from "../engine/index.ts";
import { check } from "../core/errors.ts";
import { flatten, mapTree, type Params } from "../core/tree.ts";
import { requireStep, zipMap, type GradientTransformation, type Step } from "./transform.ts";
import { lrAt, type LearningRate } from "./schedules.ts";

type Empty = Record<string, never>;

/** Multiply every update by `factor` (a number or a borrowed scalar tensor). */
function scaleTree(u: Params, factor: number | Tensor): Params {
  if (typeof factor === "number") return mapTree(u, (t) => t.mul(factor));
  return mapTree(u, (t) => t.mul(factor.ref));
}

/**
 * u ← −lr(step) · u: the last link of every optimizer chain (torch: `param.add_(d_p, alpha=-lr)`).
 * A schedule is evaluated at `step`; inside `jit` pass the step as a tensor or close over a number.
 */
export function scaleByLearningRate(lr: LearningRate): GradientTransformation<Empty> {
  return {
    init: () => ({}),
    update(grads, state, _params, step) {
      const v = lrAt(lr, step, "scaleByLearningRate");
      if (typeof v === "number") return [scaleTree(grads, -v), state];
      const neg = v.neg();
      const out = scaleTree(grads, neg);
      neg.dispose();
      return [out, state];
    },
  };
}

/** u ← factor · u. */
export function scale(factor: number): GradientTransformation<Empty> {
  return { init: () => ({}), update: (grads, state) => [scaleTree(grads, factor), state] };
}

/**
 * u ← u + wd · p. Before the Adam moments this is torch Adam's L2 penalty
 * (`grad = grad.add(param, alpha=weight_decay)`); after them, with the learning rate applied last,
 * it is AdamW's decoupled decay (`param.mul_(1 - lr * weight_decay)`), since
 * p − lr·(adam + wd·p) = p·(1 − lr·wd) − lr·adam.
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<Empty> {
  check(
    Number.isFinite(weightDecay) && weightDecay >= 0,
    `weight decay must be a non-negative number, got ${String(weightDecay)}`,
  );
  return {
    init: () => ({}),
    update(grads, state, params) {
      if (weightDecay === 0) return [grads, state];
      return [zipMap(grads, params, (g, p) => g.add(p.ref.mul(weightDecay))), state];
    },
  };
}

/**
 * Heavy-ball momentum, torch SGD with dampening 0 and nesterov false:
 * `buf = momentum·buf + g; d_p = buf`. torch starts with `buf = clone(g)`; starting from zeros
 * gives the same first buffer exactly (0·momentum + g = g).
 */
export function trace(momentum: number): GradientTransformation<{ momentum: Params }> {
  check(Number.isFinite(momentum) && momentum >= 0, `momentum must be a non-negative number, got ${String(momentum)}`);
  return {
    init: (params) => ({ momentum: mapTree(params, (p) => zeros(p.shape)) }),
    update(grads, state) {
      const buf = zipMap(grads, state.momentum, (g, b) => b.mul(momentum).add(g));
      return [mapTree(buf, (b) => b.ref), { momentum: buf }];
    },
  };
}

/** u ← sign(u) (sign(0) = 0, as torch.sign). With the learning rate: SignSGD, u = −lr·sign(g). */
export function scaleBySign(): GradientTransformation<Empty> {
  return { init: () => ({}), update: (grads, state) => [mapTree(grads, (g) => np.sign(g)), state] };
}

// A type alias, not an interface: only aliases get the implicit index signature of OptState.
export type AdamMoments = {
  /** First moment, torch `exp_avg`. */
  mu: Params;
  /** Second moment, torch `exp_avg_sq`. */
  nu: Params;
};

/** 1 − beta^t. For a tensor t, −expm1(t·ln beta) keeps float32 accuracy when beta is near 1. */
function biasCorrection(beta: number, t: Step): Step {
  if (typeof t === "number") return 1 - beta ** t;
  return np.expm1(t.ref.mul(Math.log(beta))).neg();
}

/**
 * The Adam direction without the learning rate, as torch 1.13 `_single_tensor_adam` computes it:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  t = step + 1
 *   denom = sqrt(v) / sqrt(1 − β2^t) + eps;   u = m / denom / (1 − β1^t)
 * so that −lr·u is torch's `param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)`.
 * Note eps is added to sqrt(v̂), not inside the square root.
 */
export function scaleByAdam(b1 = 0.9, b2 = 0.999, eps = 1e-8): GradientTransformation<AdamMoments> {
  check(b1 >= 0 && b1 < 1, `betas[0] must be in [0, 1), got ${String(b1)}`);
  check(b2 >= 0 && b2 < 1, `betas[1] must be in [0, 1), got ${String(b2)}`);
  check(Number.isFinite(eps) && eps >= 0, `eps must be a non-negative number, got ${String(eps)}`);
  return {
    init: (params) => ({
      mu: mapTree(params, (p) => zeros(p.shape)),
      nu: mapTree(params, (p) => zeros(p.shape)),
    }),
    update(grads, state, _params, step) {
      const s = requireStep(step, "adam");
      const t: Step = typeof s === "number" ? s + 1 : s.ref.add(1);
      const bc1 = biasCorrection(b1, t);
      const bc2 = biasCorrection(b2, t);
      if (typeof t !== "number") t.dispose();
      const mu = zipMap(state.mu, grads, (m, g) => m.mul(b1).add(g.ref.mul(1 - b1)));
      const nu = zipMap(state.nu, grads, (v, g) => v.mul(b2).add(np.square(g).mul(1 - b2)));
      // Host numbers where possible: torch computes the bias corrections in double precision.
      const sqrtBc2 = typeof bc2 === "number" ? Math.sqrt(bc2) : np.sqrt(bc2);
      const updates = zipMap(mu, nu, (m, v) => {
        const denom = np.sqrt(v.ref).div(typeof sqrtBc2 === "number" ? sqrtBc2 : sqrtBc2.ref).add(eps);
        return m.ref.div(denom).div(typeof bc1 === "number" ? bc1 : bc1.ref);
      });
      if (typeof sqrtBc2 !== "number") sqrtBc2.dispose();
      if (typeof bc1 !== "number") bc1.dispose();
      return [updates, { mu, nu }];
    },
  };
}

/**
 * Scale all gradients together so that their global L2 norm is at most `maxNorm`, with
 * torch.nn.utils.clip_grad_norm_'s formula (1.13, norm_type 2):
 *   total = ‖(‖g_1‖, …, ‖g_k‖)‖;  coef = min(max_norm / (total + 1e-6), 1);  g ← coef·g.
 * Like torch it always multiplies (coef is exactly 1 when no clipping is needed), so it needs no
 * host read and works under `jit`.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<Empty> {
  check(Number.isFinite(maxNorm) && maxNorm > 0, `maxNorm must be a positive number, got ${String(maxNorm)}`);
  return {
    init: () => ({}),
    update(grads, state) {
      const leaves = flatten(grads);
      if (leaves.length === 0) return [grads, state];
      let sumSq: Tensor | undefined;
      for (const [, g] of leaves) {
        const s = np.square(g.ref).sum();
        sumSq = sumSq === undefined ? s : sumSq.add(s);
      }
      const total = np.sqrt(sumSq as Tensor);
      const coef = np.minimum(np.trueDivide(maxNorm, total.add(1e-6)), 1);
      const out = scaleTree(grads, coef);
      coef.dispose();
      return [out, state];
    },
  };
}
