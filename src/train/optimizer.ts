// The optimizer of a LoRA finetune, from the options every training command shares: AdamW under a
// learning-rate schedule (constant, linear or cosine, each with linear warmup), optional global-norm
// clipping of the gradients, and optional LoRA+ (B trained `loraplus_lr_ratio` times faster than A).
// Model-agnostic: the caller names extra groups (a new head with its own rate) by path prefix.
// Everything is wired from optim/: schedules.ts, transforms.ts (clipByGlobalNorm), loraplus.ts.
import { np } from "../engine/index.ts";
import { checkOptimizerOptions, type OptimizerOptions } from "./options.ts";
import {
  adamw,
  chain,
  constantSchedule,
  cosineSchedule,
  linearSchedule,
  loraPlusLabel,
  paramGroups,
  scaleLearningRate,
  clipByGlobalNorm,
  type GradientTransformation,
  type LearningRate,
  type Schedule,
} from "../optim/index.ts";

export { SCHEDULES, OPTIMIZER_DEFAULTS, checkOptimizerOptions, type OptimizerOptions, type ScheduleName } from "./options.ts";

/** The schedule of a peak rate `lr` over `totalSteps` (warmup capped at the run's length). */
export function scheduleOf(o: Pick<OptimizerOptions, "schedule" | "warmupSteps">, lr: number, totalSteps: number): Schedule {
  const w = { lr, warmupSteps: Math.min(o.warmupSteps, totalSteps), totalSteps };
  switch (o.schedule) {
    case "constant":
      return w.warmupSteps === 0 ? constantSchedule(lr) : warmupThenConstant(lr, w.warmupSteps);
    case "linear":
      return linearSchedule(w);
    case "cosine":
      return cosineSchedule(w);
    default: {
      const never: never = o.schedule;
      throw new Error(`unhandled schedule ${String(never)}`);
    }
  }
}

/** HF get_constant_schedule_with_warmup: step / max(1, warmup) during warmup, then 1; times lr. */
function warmupThenConstant(lr: number, warmupSteps: number): Schedule {
  return (step) => {
    if (typeof step === "number") return step < warmupSteps ? (lr * step) / warmupSteps : lr;
    return np.where(step.ref.less(warmupSteps), step.ref.mul(1 / warmupSteps), 1).mul(lr);
  };
}

/** A group of parameters with its own peak rate, chosen by path prefix (e.g. a new head "classifier."). */
export interface ExtraGroup {
  readonly name: string;
  readonly prefix: string;
  readonly lr: number;
}

/**
 * AdamW with `lr` on the adapter (LoRA+ groups when a ratio is given) and each extra group's own
 * rate, every rate under the same schedule shape; global-norm clipping over all of them first.
 */
export function finetuneOptimizer(
  o: OptimizerOptions,
  lr: number,
  totalSteps: number,
  extra: readonly ExtraGroup[] = [],
): GradientTransformation {
  checkOptimizerOptions(o);
  const sched = (peak: number): LearningRate => scheduleOf(o, peak, totalSteps);
  const extraOf = (path: string): ExtraGroup | undefined => extra.find((g) => path.startsWith(g.prefix));
  const extraGroups = Object.fromEntries(extra.map((g) => [g.name, { lr: sched(g.lr) }]));
  const ratio = o.loraplusLrRatio;
  const lora = loraPlusLabel();
  const groups: Record<string, Partial<{ lr: LearningRate; weightDecay: number }>> =
    ratio === undefined
      ? { adapter: {}, ...extraGroups }
      : {
          groupA: {},
          // PEFT's LoRA+ groups (optim/loraplus.ts); embeddings keep PEFT's fixed 1e-6.
          embedding: { lr: 1e-6 },
          groupB: { lr: scaleLearningRate(sched(lr), ratio) },
          groupB_no_decay: { lr: scaleLearningRate(sched(lr), ratio), weightDecay: 0 },
          ...extraGroups,
        };
  const grouped = paramGroups({
    optimizer: (h: { lr: LearningRate; weightDecay: number }) => adamw(h),
    defaults: { lr: sched(lr), weightDecay: o.weightDecay },
    groups,
    label: (path, p) => extraOf(path)?.name ?? (ratio === undefined ? "adapter" : lora(path, p)),
  });
  return o.gradClip === undefined ? grouped : chain(clipByGlobalNorm(o.gradClip), grouped);
}
