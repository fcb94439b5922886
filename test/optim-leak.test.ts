// Optimizer steps must leave exactly as many device buffers alive as they found: 20 steps of
// Adam (and of a grouped, clipped, scheduled chain) end with the live-buffer count of step 1.
// Timings on the shared 2-core machine are noisy; this file takes a few seconds.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import {
  blockUntilReady,
  disposeTree,
  grad,
  initEngine,
  liveBuffers,
  refTree,
  trackAllocations,
} from "../src/engine/index.ts";
import {
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  cosineSchedule,
  loraPlus,
  adamw,
  type GradientTransformation,
} from "../src/optim/index.ts";
import { problem } from "./support/optim-fixture.ts";

before(async () => {
  await trackAllocations();
  await initEngine();
});

async function countsOver20Steps(opt: GradientTransformation, which: "lsq" | "sep"): Promise<[number, number]> {
  const { init, loss } = problem(which);
  const gradFn = grad(loss);
  let params = init();
  let state = opt.init(params);
  let afterFirst = -1;
  for (let step = 0; step < 20; step++) {
    const g = gradFn(refTree(params));
    const [updates, next] = opt.update(g, state, params, step);
    state = next;
    params = applyUpdates(params, updates);
    // jax-js queues operations lazily and holds their inputs until they run; a training loop
    // flushes every step (it reads the loss), so count after the queue has run.
    await blockUntilReady([params, state]);
    if (step === 0) afterFirst = liveBuffers();
  }
  const afterLast = liveBuffers();
  disposeTree(params);
  disposeTree(state);
  return [afterFirst, afterLast];
}

test("20 steps of adam leak no buffers", async () => {
  const [first, last] = await countsOver20Steps(adam({ lr: 0.01, weightDecay: 0.1 }), "lsq");
  assert.ok(first > 0);
  assert.equal(last, first);
});

test("20 steps of clipped LoRA+ adamw with a cosine schedule leak no buffers", async () => {
  const opt = chain(
    clipByGlobalNorm(0.5),
    loraPlus({
      optimizer: adamw,
      defaults: { lr: cosineSchedule({ lr: 0.01, warmupSteps: 3, totalSteps: 20 }), weightDecay: 0.1 },
      loraplus_lr_ratio: 16,
    }),
  );
  const [first, last] = await countsOver20Steps(opt, "sep");
  assert.equal(last, first);
});

test("the leak check can fail: keeping one extra reference per step is seen", async () => {
  const leaky: GradientTransformation = {
    init: () => ({}),
    update(grads, state, params) {
      refTree(params); // one reference to every parameter that nobody will drop
      return [grads, state];
    },
  };
  const [first, last] = await countsOver20Steps(chain(leaky, adam({ lr: 0.01 })), "lsq");
  assert.ok(last > first, `expected a leak to show: ${first} → ${last}`);
});
