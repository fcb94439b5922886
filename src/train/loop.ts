// The training loop every finetune shares, model-agnostic: it takes a step function, an evaluation
// function and the run's state, and owns only the schedule of things around the steps — records to
// the metrics sink, evaluation every `evalEvery` steps, early stopping, checkpoints every N steps or
// every so many seconds, and stopping on a non-finite loss. What a state is (parameters, optimizer
// state, a model's own extras) is the caller's business: the loop hands it back to the callbacks.
//
// Resuming: the caller restores its state from a checkpoint and passes `start` (the step reached and
// the loop's own state from the checkpoint's meta); the loop then runs steps start.step+1… exactly as
// the uninterrupted run would, provided `step` derives its batch and randomness from the step number.
import { EARLY_STOP_START, isEvalStep, observe, type EarlyStopState, type MetricMode } from "./early-stop.ts";
import { nullSink, type MetricsSink } from "./metrics.ts";

export interface StepOutput<S> {
  readonly state: S;
  /** The loss before the update. */
  readonly loss: number;
  /** The learning rate the update used (the main group's, for grouped optimizers). */
  readonly lr: number;
  /** Global L2 norm of the gradients before clipping. */
  readonly gradNorm: number;
}

/** What the loop itself carries across a checkpoint (JSON). */
export interface LoopState {
  readonly earlyStop: EarlyStopState;
}

export interface LoopOptions<S> {
  readonly totalSteps: number;
  /** One update: `step` is the number of updates already applied (0 for the first). Consumes `state`. */
  readonly step: (state: S, step: number) => Promise<StepOutput<S>>;
  /** Validation numbers of `state` after `step` updates (borrows `state`). */
  readonly evaluate?: (state: S, step: number) => Promise<Readonly<Record<string, number>>>;
  /** Evaluate every this many steps (0: only after the last step). */
  readonly evalEvery: number;
  /** The validation number early stopping and the best state watch, e.g. {key: "loss", mode: "min"}. */
  readonly watch: { readonly key: string; readonly mode: MetricMode };
  /** Stop after this many evaluations without improvement (absent: never stop early). */
  readonly patience?: number;
  /** Called when an evaluation is the best so far (e.g. to keep a copy of the adapter). Borrows. */
  readonly onBest?: (state: S, step: number) => Promise<void>;
  /** Called after every step with a finite loss (e.g. instrumentation). Borrows. */
  readonly afterStep?: (state: S, out: StepOutput<S>, step: number) => Promise<void>;
  readonly checkpoint?: {
    /** Every this many steps; absent: by time only. */
    readonly every?: number;
    /** Also whenever this many seconds have passed since the last checkpoint (absent: never by time). */
    readonly seconds?: number;
    /** Write the checkpoint of `state` after `step` updates with the loop's state. Borrows. */
    readonly save: (state: S, step: number, loop: LoopState) => Promise<void>;
  };
  readonly sink?: MetricsSink;
  /** A resumed run: the step reached and the loop's state saved with it. */
  readonly start?: { readonly step: number; readonly loop: LoopState };
}

export interface LoopResult<S> {
  readonly state: S;
  /** Updates applied (including those before a resume). */
  readonly steps: number;
  /** Losses of the steps run in this call, in order. */
  readonly losses: number[];
  readonly diverged: boolean;
  readonly stoppedEarly: boolean;
  /** The best evaluation's step and value (-1 and NaN when there was none). */
  readonly bestStep: number;
  readonly best: number;
  /** The last evaluation, if the last step was evaluated (it always is unless the run diverged). */
  readonly lastEval?: { readonly step: number; readonly valid: Readonly<Record<string, number>> };
}

export async function runLoop<S>(o: LoopOptions<S>, state: S): Promise<LoopResult<S>> {
  const sink = o.sink ?? nullSink;
  let earlyStop = o.start?.loop.earlyStop ?? EARLY_STOP_START;
  let step = o.start?.step ?? 0;
  const losses: number[] = [];
  let diverged = false;
  let stoppedEarly = false;
  let lastEval: LoopResult<S>["lastEval"];
  let lastSave = performance.now();
  while (step < o.totalSteps) {
    // A step is synchronous engine work; between steps, let the event loop run (a signal handler,
    // a timer), so Ctrl-C is heard within one step rather than at the next file write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const out = await o.step(state, step);
    state = out.state;
    step++;
    losses.push(out.loss);
    sink.write({ step, loss: out.loss, lr: out.lr, gradNorm: out.gradNorm });
    if (!Number.isFinite(out.loss)) {
      diverged = true;
      break;
    }
    if (o.afterStep !== undefined) await o.afterStep(state, out, step);
    if (o.evaluate !== undefined && isEvalStep(step, o.evalEvery, o.totalSteps)) {
      const valid = await o.evaluate(state, step);
      lastEval = { step, valid };
      sink.write({ step, valid });
      const seen = observe(earlyStop, step, valid[o.watch.key] ?? NaN, o.watch.mode, o.patience);
      earlyStop = seen.state;
      if (seen.improved && o.onBest !== undefined) await o.onBest(state, step);
      if (seen.stop && step < o.totalSteps) {
        stoppedEarly = true;
        break;
      }
    }
    const c = o.checkpoint;
    if (c !== undefined && step < o.totalSteps) {
      const byStep = c.every !== undefined && step % c.every === 0;
      const byTime = c.seconds !== undefined && (performance.now() - lastSave) / 1000 >= c.seconds;
      if (byStep || byTime) {
        await c.save(state, step, { earlyStop });
        lastSave = performance.now();
      }
    }
  }
  return {
    state,
    steps: step,
    losses,
    diverged,
    stoppedEarly,
    bestStep: earlyStop.bestStep,
    best: earlyStop.best,
    ...(lastEval === undefined ? {} : { lastEval }),
  };
}
