// A generic training step for any model written on nn/lora: gradients flow only to the trainable
// part of the tree (LoRA factors and modules_to_save), the frozen part is passed through untouched.
// The loop itself stays in user code (or in the sweep runner): it is a few lines, and what it emits
// (loss per step) is for sinks to print or store.
import { combine, partition, type Params } from "../core/tree.ts";
import { valueAndGrad, refTree, disposeTree, readScalar, type Tensor } from "../engine/index.ts";
import { applyUpdates, type GradientTransformation, type OptState } from "../optim/index.ts";

export interface TrainState {
  /** Parameters being trained (owned by the state). */
  readonly trainable: Params;
  /** Parameters held fixed (owned by the state). */
  readonly frozen: Params;
  readonly optState: OptState;
  /** Number of updates applied so far. */
  readonly step: number;
}

export interface TrainerOptions {
  /** The scalar loss of the whole parameter tree on a batch. Consumes its arguments. */
  readonly loss: (params: Params, ...batch: Tensor[]) => Tensor;
  readonly optimizer: GradientTransformation;
  /** Which leaf paths are trained (e.g. `injectLora(...).trainable`). */
  readonly trainable: (path: string) => boolean;
}

export interface Trainer {
  /** Split `params` into trainable and frozen parts and start the optimizer. Consumes `params`. */
  init(params: Params): TrainState;
  /**
   * One optimizer step on a batch. Consumes `state` and the batch tensors; returns the new state and
   * the loss before the update. A non-finite loss is returned as is: callers decide what divergence is.
   */
  step(state: TrainState, ...batch: Tensor[]): Promise<{ loss: number; state: TrainState }>;
  /** The whole tree (trainable and frozen together). Consumes `state`. */
  params(state: TrainState): Params;
}

export function createTrainer(opts: TrainerOptions): Trainer {
  return {
    init(params) {
      const [trainable, frozen] = partition(params, opts.trainable);
      return { trainable, frozen, optState: opts.optimizer.init(trainable), step: 0 };
    },
    async step(state, ...batch) {
      const frozen = state.frozen;
      const lossOf = (t: Params): Tensor => opts.loss(combine(t, refTree(frozen)), ...batch);
      const [loss, grads] = valueAndGrad(lossOf)(refTree(state.trainable));
      const [updates, optState] = opts.optimizer.update(grads, state.optState, state.trainable, state.step);
      const trainable = applyUpdates(state.trainable, updates);
      const value = await readScalar(loss); // also flushes the engine's lazy work for this step
      loss.dispose();
      return { loss: value, state: { trainable, frozen, optState, step: state.step + 1 } };
    },
    params(state) {
      disposeTree(state.optState);
      return combine(state.trainable, state.frozen);
    },
  };
}
