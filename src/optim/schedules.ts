// Learning-rate schedules: pure functions of the step number that return the learning rate.
// The shapes are HF transformers' LR lambdas (src/transformers/optimization.py,
// `get_linear_schedule_with_warmup` and `get_cosine_schedule_with_warmup`), multiplied by the peak
// `lr` as torch's LambdaLR does (`base_lr * lr_lambda(step)`). HF's `current_step` is our `step`
// (0 for the first update), so with warmup the first update uses lr 0, exactly as in HF.
//
// A number step gives a number, computed in double precision on the host (as in Python); a tensor
// step (inside `jit`) gives a scalar tensor. Tensor steps are borrowed.
import { np, type Tensor } from "../engine/index.ts";
import { check } from "../core/errors.ts";
import type { Step } from "./transform.ts";

export type Schedule = (step: Step) => Step;

/** A fixed learning rate or a schedule. */
export type LearningRate = number | Schedule;

/** The learning rate at `step` (borrows `step`). */
export function lrAt(lr: LearningRate, step: Step | undefined, who: string): Step {
  if (typeof lr === "number") return lr;
  if (step === undefined) {
    throw new Error(`${who} has a learning-rate schedule and needs the step: call update(grads, state, params, step)`);
  }
  return lr(step);
}

/** `lr × factor` for a fixed rate or a schedule (used for LoRA+'s B group, lr × ratio). */
export function scaleLearningRate(lr: LearningRate, factor: number): LearningRate {
  if (typeof lr === "number") return lr * factor;
  return (step) => {
    const v = lr(step);
    return typeof v === "number" ? v * factor : v.mul(factor);
  };
}

export function constantSchedule(lr: number): Schedule {
  checkLr(lr);
  return () => lr;
}

export interface WarmupOptions {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** HF `num_warmup_steps`: linear ramp from 0 over these steps. */
  warmupSteps: number;
  /** HF `num_training_steps`. */
  totalSteps: number;
}

/**
 * HF `get_linear_schedule_with_warmup`:
 *   step < warmup ? step / max(1, warmup) : max(0, (total − step) / max(1, total − warmup)).
 */
export function linearSchedule(o: WarmupOptions): Schedule {
  checkWarmup(o);
  const { lr, warmupSteps: w, totalSteps: total } = o;
  const warmDen = Math.max(1, w);
  const decayDen = Math.max(1, total - w);
  return (step) => {
    if (typeof step === "number") {
      const f = step < w ? step / warmDen : Math.max(0, (total - step) / decayDen);
      return lr * f;
    }
    const warm = step.ref.mul(1 / warmDen);
    const decay = np.maximum(np.negative(step.ref).add(total).mul(1 / decayDen), 0);
    return np.where(step.ref.less(w), warm, decay).mul(lr);
  };
}

export interface CosineOptions extends WarmupOptions {
  /** HF `num_cycles`; the default 0.5 decays from the peak to 0 along half a cosine. */
  numCycles?: number;
}

/**
 * HF `get_cosine_schedule_with_warmup` (the `_get_cosine_schedule_with_warmup_lr_lambda` helper):
 *   step < warmup ? step / max(1, warmup)
 *                 : max(0, ½·(1 + cos(π · num_cycles · 2 · progress))),
 *   progress = (step − warmup) / max(1, total − warmup).
 */
export function cosineSchedule(o: CosineOptions): Schedule {
  checkWarmup(o);
  const { lr, warmupSteps: w, totalSteps: total } = o;
  const cycles = o.numCycles ?? 0.5;
  check(Number.isFinite(cycles) && cycles > 0, `numCycles must be a positive number, got ${String(cycles)}`);
  const warmDen = Math.max(1, w);
  const decayDen = Math.max(1, total - w);
  return (step) => {
    if (typeof step === "number") {
      if (step < w) return lr * (step / warmDen);
      const progress = (step - w) / decayDen;
      return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
    }
    const warm = step.ref.mul(1 / warmDen);
    const progress: Tensor = step.ref.sub(w).mul(1 / decayDen);
    const cosine = np.maximum(np.cos(progress.mul(Math.PI * cycles * 2)).add(1).mul(0.5), 0);
    return np.where(step.ref.less(w), warm, cosine).mul(lr);
  };
}

function checkLr(lr: number): void {
  check(Number.isFinite(lr) && lr >= 0, `lr must be a non-negative number, got ${String(lr)}`);
}

function checkWarmup(o: WarmupOptions): void {
  checkLr(o.lr);
  check(
    Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0,
    `warmupSteps must be a non-negative integer, got ${String(o.warmupSteps)}`,
  );
  check(
    Number.isInteger(o.totalSteps) && o.totalSteps >= o.warmupSteps,
    `totalSteps must be an integer at least warmupSteps (${o.warmupSteps}), got ${String(o.totalSteps)}`,
  );
}
