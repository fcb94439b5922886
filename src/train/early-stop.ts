// When to evaluate and when to stop. Evaluation runs every `evalEvery` steps and after the last
// step; early stopping (as HF's EarlyStoppingCallback) stops once the watched validation number has
// not improved for `patience` evaluations in a row. Plain data in, plain data out, so the state goes
// into a checkpoint as JSON and a resumed run stops where the uninterrupted one would.
import { check } from "../core/errors.ts";

/** Lower is better ("min": a loss) or higher is better ("max": an accuracy). */
export type MetricMode = "min" | "max";

export interface EarlyStopState {
  /** Best value so far (NaN before the first evaluation). */
  readonly best: number;
  /** Step of the best value (-1 before the first evaluation). */
  readonly bestStep: number;
  /** Evaluations in a row without improvement. */
  readonly bad: number;
}

export const EARLY_STOP_START: EarlyStopState = { best: NaN, bestStep: -1, bad: 0 };

export interface Observation {
  readonly state: EarlyStopState;
  /** The value is the best so far (strictly better; the first finite value always is). */
  readonly improved: boolean;
  /** `patience` evaluations in a row without improvement: stop now. Never with no patience. */
  readonly stop: boolean;
}

/** One evaluation's value folded into the state. A non-finite value never improves. */
export function observe(
  s: EarlyStopState,
  step: number,
  value: number,
  mode: MetricMode,
  patience: number | undefined,
): Observation {
  if (patience !== undefined) check(Number.isInteger(patience) && patience > 0, `patience must be a positive integer, got ${patience}`);
  const better = Number.isFinite(value) && (!Number.isFinite(s.best) || (mode === "min" ? value < s.best : value > s.best));
  const state = better ? { best: value, bestStep: step, bad: 0 } : { ...s, bad: s.bad + 1 };
  return { state, improved: better, stop: patience !== undefined && state.bad >= patience };
}

/** Evaluate after this step? Every `evalEvery` steps (0: never in between) and after the last one. */
export function isEvalStep(step: number, evalEvery: number, totalSteps: number): boolean {
  return step === totalSteps || (evalEvery > 0 && step % evalEvery === 0);
}
