// Optimizer trajectories against PyTorch 1.13 (test/fixtures/optim.json, made by
// scripts/fixtures/make_optim_fixtures.py): the same problem, the same initial values, 10 steps,
// every parameter compared after every step at 1e-5 relative.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { grad, initEngine, jit, np, disposeTree, refTree, scalar, type Tensor } from "../src/engine/index.ts";
import type { Params } from "../src/core/tree.ts";
import {
  adam,
  adamw,
  applyUpdates,
  cosineSchedule,
  linearSchedule,
  loraPlus,
  paramGroups,
  sgd,
  signsgd,
  type AdamOptions,
  type GradientTransformation,
  type OptState,
} from "../src/optim/index.ts";
import { fixture, problem, assertClose } from "./support/optim-fixture.ts";

before(async () => {
  await initEngine();
});

const num = (c: Record<string, unknown>, k: string): number => c[k] as number;

/** The lorascope optimizer for each torch case, built from the case's recorded config. */
const BUILD: Record<string, (c: Record<string, unknown>) => GradientTransformation> = {
  sgd: (c) => sgd({ lr: num(c, "lr") }),
  sgd_momentum: (c) => sgd({ lr: num(c, "lr"), momentum: num(c, "momentum") }),
  sgd_weight_decay: (c) => sgd({ lr: num(c, "lr"), momentum: num(c, "momentum"), weightDecay: num(c, "weightDecay") }),
  adam: (c) => adam({ lr: num(c, "lr") }),
  adam_weight_decay: (c) => adam({ lr: num(c, "lr"), weightDecay: num(c, "weightDecay") }),
  adam_betas_eps: (c) => adam({ lr: num(c, "lr"), betas: c["betas"] as [number, number], eps: num(c, "eps") }),
  adamw: (c) => adamw({ lr: num(c, "lr"), weightDecay: num(c, "weightDecay") }),
  // torch.optim.AdamW's default weight_decay is 1e-2; ours must be the same.
  adamw_default_decay: (c) => adamw({ lr: num(c, "lr") }),
  signsgd: (c) => signsgd({ lr: num(c, "lr") }),
  sgd_linear_warmup: (c) =>
    sgd({
      lr: linearSchedule({ lr: num(c, "lr"), warmupSteps: num(c, "warmupSteps"), totalSteps: num(c, "totalSteps") }),
    }),
  adamw_cosine_warmup: (c) =>
    adamw({
      lr: cosineSchedule({ lr: num(c, "lr"), warmupSteps: num(c, "warmupSteps"), totalSteps: num(c, "totalSteps") }),
      weightDecay: num(c, "weightDecay"),
    }),
  sgd_clip: (c) => sgd({ lr: num(c, "lr"), maxGradNorm: num(c, "maxGradNorm") }),
  adam_clip: (c) => adam({ lr: num(c, "lr"), maxGradNorm: num(c, "maxGradNorm") }),
  adam_groups: () =>
    paramGroups<AdamOptions>({
      optimizer: adam,
      defaults: { lr: 0.05 },
      groups: { weights: { lr: 0.01 }, biases: { lr: 0.1, weightDecay: 0.1 } },
      label: (path) => (path.endsWith("bias") ? "biases" : "weights"),
    }),
  loraplus_adamw: (c) =>
    loraPlus({
      optimizer: adamw,
      defaults: { lr: num(c, "lr"), weightDecay: num(c, "weightDecay") },
      loraplus_lr_ratio: num(c, "loraplus_lr_ratio"),
      loraplus_lr_embedding: num(c, "loraplus_lr_embedding"),
    }),
};

test("every torch case has a lorascope optimizer", () => {
  assert.deepEqual(Object.keys(fixture.cases).sort(), Object.keys(BUILD).sort());
});

for (const [name, kase] of Object.entries(fixture.cases)) {
  test(`${name} follows torch ${fixture.torch} for ${fixture.steps} steps`, async () => {
    const { init, loss } = problem(kase.problem);
    const opt = (BUILD[name] as (c: Record<string, unknown>) => GradientTransformation)(kase.config);
    const gradFn = grad(loss);
    let params = init();
    let state = opt.init(params);
    for (let step = 0; step < fixture.steps; step++) {
      const g = gradFn(refTree(params));
      const [updates, next] = opt.update(g, state, params, step);
      state = next;
      params = applyUpdates(params, updates);
      await assertClose(params, kase.trajectory[step] as Record<string, number[]>, `${name} step ${step + 1}`);
    }
    disposeTree(params);
    disposeTree(state);
  });
}

test("adamw with a cosine schedule inside jit (tensor step) follows torch", async () => {
  const kase = fixture.cases["adamw_cosine_warmup"];
  assert.ok(kase !== undefined);
  const c = kase.config;
  const { init, loss } = problem(kase.problem);
  const opt = adamw({
    lr: cosineSchedule({ lr: num(c, "lr"), warmupSteps: num(c, "warmupSteps"), totalSteps: num(c, "totalSteps") }),
    weightDecay: num(c, "weightDecay"),
  });
  const gradFn = grad(loss);
  // One traced function serves every step: the step enters as a scalar tensor, not a constant.
  const trainStep = jit((params: Params, state: OptState[], step: Tensor): [Params, OptState[]] => {
    const g = gradFn(refTree(params));
    const [updates, next] = opt.update(g, state, params, step);
    step.dispose();
    return [applyUpdates(params, updates), next];
  });
  let params = init();
  let state = opt.init(params);
  for (let step = 0; step < fixture.steps; step++) {
    [params, state] = trainStep(params, state, scalar(step).astype(np.float32));
    await assertClose(params, kase.trajectory[step] as Record<string, number[]>, `jit step ${step + 1}`);
  }
  trainStep.dispose();
  disposeTree(params);
  disposeTree(state);
});
