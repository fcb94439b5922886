// The training step of trainer.ts, traced once per batch shape: forward, backward and the optimizer
// update form ONE jitted function, so after the first call at a shape a step is a replay of cached
// wasm kernels, with no tracing and no host round trip until the caller reads the loss.
//
// jit keys its cache on the shapes of its inputs, so callers keep the shapes few: fixed batch size
// (a short last batch is padded and masked, not a new shape) and a handful of sequence lengths.
// The step number enters as a scalar tensor, so learning-rate schedules and Adam's bias corrections
// do not re-trace (optim/transform.ts, `Step`).
import { combine, flatten, partition, type Params } from "../core/tree.ts";
import { disposeTree, jit, np, read, readScalar, refTree, valueAndGrad, type Tensor } from "../engine/index.ts";
import { applyUpdates, type OptState } from "../optim/index.ts";
import type { Trainer, TrainerOptions, TrainState } from "./trainer.ts";

type StepFn = (
  trainable: Params,
  frozen: Params,
  optState: OptState,
  step: Tensor,
  batch: Tensor[],
) => [Tensor, Tensor, Params, OptState];

export interface JitTrainer extends Trainer {
  /**
   * The step without the host read: returns the loss as a device scalar (owned), so a caller may
   * read it every k steps. Consumes `state` and the batch tensors.
   */
  stepLazy(state: TrainState, ...batch: Tensor[]): { loss: Tensor; state: TrainState };
  /**
   * The step with its loss and the global L2 norm of the gradients (before any clipping), read in
   * one host transfer. Consumes `state` and the batch tensors.
   */
  stepWithNorm(state: TrainState, ...batch: Tensor[]): Promise<{ loss: number; gradNorm: number; state: TrainState }>;
  /** How many times the step was traced (one per distinct batch shape). */
  traces(): number;
}

export function createJitTrainer(opts: TrainerOptions): JitTrainer {
  let traced = 0;
  const core = jit(((trainable: Params, frozen: Params, optState: OptState, step: Tensor, batch: Tensor[]) => {
    traced++;
    const lossOf = (t: Params, f: Params, b: Tensor[]): Tensor => opts.loss(combine(t, f), ...b);
    const [loss, grads] = valueAndGrad(lossOf)(refTree(trainable), frozen, batch);
    // ‖g‖ over every trainable leaf (torch clip_grad_norm_'s total norm): Σ‖g_i‖², then √. []
    let sumSq: Tensor = np.zeros([]);
    for (const [, g] of flatten(grads)) sumSq = sumSq.add(np.square(g.ref).sum());
    const gradNorm = np.sqrt(sumSq);
    const [updates, next] = opts.optimizer.update(grads, optState, trainable, step);
    step.dispose();
    return [loss, gradNorm, applyUpdates(trainable, updates), next];
  })) as unknown as StepFn;

  const run = (state: TrainState, batch: Tensor[]): { loss: Tensor; gradNorm: Tensor; state: TrainState } => {
    const [loss, gradNorm, trainable, optState] = core(
      state.trainable,
      refTree(state.frozen),
      state.optState,
      np.array(state.step),
      batch,
    );
    return { loss, gradNorm, state: { trainable, frozen: state.frozen, optState, step: state.step + 1 } };
  };
  const stepLazy = (state: TrainState, ...batch: Tensor[]): { loss: Tensor; state: TrainState } => {
    const out = run(state, batch);
    out.gradNorm.dispose();
    return { loss: out.loss, state: out.state };
  };

  return {
    init(params) {
      const [trainable, frozen] = partition(params, opts.trainable);
      return { trainable, frozen, optState: opts.optimizer.init(trainable), step: 0 };
    },
    async step(state, ...batch) {
      const out = stepLazy(state, ...batch);
      const value = await readScalar(out.loss); // the step's one host read
      out.loss.dispose();
      return { loss: value, state: out.state };
    },
    stepLazy,
    async stepWithNorm(state, ...batch) {
      const out = run(state, batch);
      const [loss, gradNorm] = await read(np.stack([out.loss, out.gradNorm])); // one host read for both
      return { loss: loss as number, gradNorm: gradNorm as number, state: out.state };
    },
    params(state) {
      disposeTree(state.optState);
      return combine(state.trainable, state.frozen);
    },
    traces: () => traced,
  };
}
