// The named optimizers are short chains of the transforms in transforms.ts, each matching the
// PyTorch 1.13 optimizer of the same name (checked step by step against committed torch
// trajectories in test/optim-torch.test.ts).
import { chain, type GradientTransformation, type OptState } from "./transform.ts";
import type { LearningRate } from "./schedules.ts";
import {
  addDecayedWeights,
  clipByGlobalNorm,
  scaleByAdam,
  scaleByLearningRate,
  scaleBySign,
  trace,
} from "./transforms.ts";

export interface SgdOptions {
  lr: LearningRate;
  /** torch.optim.SGD `momentum` (dampening 0, nesterov false). 0 = plain SGD. */
  momentum?: number;
  /** torch.optim.SGD `weight_decay`: L2, added to the gradient before momentum. */
  weightDecay?: number;
  /** Global-norm clipping applied to the raw gradients first (clip_grad_norm_ before step()). */
  maxGradNorm?: number;
}

export function sgd(o: SgdOptions): GradientTransformation<OptState[]> {
  const parts: GradientTransformation[] = [];
  if (o.maxGradNorm !== undefined) parts.push(clipByGlobalNorm(o.maxGradNorm));
  if ((o.weightDecay ?? 0) !== 0) parts.push(addDecayedWeights(o.weightDecay ?? 0));
  if ((o.momentum ?? 0) !== 0) parts.push(trace(o.momentum ?? 0));
  parts.push(scaleByLearningRate(o.lr));
  return chain(...parts);
}

export interface SignSgdOptions {
  lr: LearningRate;
  maxGradNorm?: number;
}

/**
 * SignSGD, u = −lr·sign(g): the optimizer of the width analysis in Hayou, Ghosh & Yu 2024.
 * Clipping before a sign only matters for exact zeros, but is allowed for symmetry.
 */
export function signsgd(o: SignSgdOptions): GradientTransformation<OptState[]> {
  const parts: GradientTransformation[] = [];
  if (o.maxGradNorm !== undefined) parts.push(clipByGlobalNorm(o.maxGradNorm));
  parts.push(scaleBySign(), scaleByLearningRate(o.lr));
  return chain(...parts);
}

export interface AdamOptions {
  lr: LearningRate;
  /** torch `betas`, default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** torch `eps`, default 1e-8, added to sqrt(v̂). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (torch default 0). AdamW: decoupled decay (torch default 1e-2). */
  weightDecay?: number;
  maxGradNorm?: number;
}

/** torch.optim.Adam: weight decay is an L2 term in the gradient, so it passes through the moments. */
export function adam(o: AdamOptions): GradientTransformation<OptState[]> {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const parts: GradientTransformation[] = [];
  if (o.maxGradNorm !== undefined) parts.push(clipByGlobalNorm(o.maxGradNorm));
  if ((o.weightDecay ?? 0) !== 0) parts.push(addDecayedWeights(o.weightDecay ?? 0));
  parts.push(scaleByAdam(b1, b2, o.eps ?? 1e-8), scaleByLearningRate(o.lr));
  return chain(...parts);
}

/**
 * torch.optim.AdamW: Adam with decoupled weight decay, p ← p·(1 − lr·wd) − lr·adam. The decay is
 * added after the Adam moments and scaled by the same (scheduled) lr, as torch uses group['lr'].
 */
export function adamw(o: AdamOptions): GradientTransformation<OptState[]> {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const parts: GradientTransformation[] = [];
  if (o.maxGradNorm !== undefined) parts.push(clipByGlobalNorm(o.maxGradNorm));
  parts.push(scaleByAdam(b1, b2, o.eps ?? 1e-8));
  const wd = o.weightDecay ?? 1e-2;
  if (wd !== 0) parts.push(addDecayedWeights(wd));
  parts.push(scaleByLearningRate(o.lr));
  return chain(...parts);
}
