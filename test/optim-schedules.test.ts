// Schedules against HF's LR lambdas (values recorded in test/fixtures/optim.json by
// scripts/fixtures/make_optim_fixtures.py), for host-number steps and for tensor steps (jit).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initEngine, readScalar, scalar, np, type Tensor } from "../src/engine/index.ts";
import { UserError } from "../src/core/errors.ts";
import { constantSchedule, cosineSchedule, linearSchedule, type Schedule } from "../src/optim/index.ts";
import { fixture } from "./support/optim-fixture.ts";

before(async () => {
  await initEngine();
});

const LR = 0.3;
const CASES: Record<string, Schedule> = {
  linear_w3_t10: linearSchedule({ lr: LR, warmupSteps: 3, totalSteps: 10 }),
  linear_w0_t5: linearSchedule({ lr: LR, warmupSteps: 0, totalSteps: 5 }),
  cosine_w2_t10: cosineSchedule({ lr: LR, warmupSteps: 2, totalSteps: 10 }),
  cosine_w0_t8_c1: cosineSchedule({ lr: LR, warmupSteps: 0, totalSteps: 8, numCycles: 1 }),
};

test("schedules match HF's lambdas × lr at every step (host steps, double precision)", () => {
  assert.deepEqual(Object.keys(CASES).sort(), Object.keys(fixture.schedules).sort());
  for (const [name, lambdas] of Object.entries(fixture.schedules)) {
    const s = CASES[name] as Schedule;
    lambdas.forEach((lam, step) => {
      const got = s(step) as number;
      assert.ok(Math.abs(got - LR * lam) <= 1e-15, `${name} step ${step}: ${got} vs ${LR * lam}`);
    });
  }
});

test("schedules give the same values for tensor steps (float32)", async () => {
  for (const [name, lambdas] of Object.entries(fixture.schedules)) {
    const s = CASES[name] as Schedule;
    for (let step = 0; step < lambdas.length; step++) {
      const t = scalar(step).astype(np.float32);
      const v = s(t) as Tensor;
      t.dispose();
      const got = await readScalar(v);
      v.dispose();
      // float32 evaluation of the same formula: a few ulps of the peak lr.
      assert.ok(Math.abs(got - LR * (lambdas[step] as number)) <= 1e-6, `${name} step ${step}: ${got}`);
    }
  }
});

test("the first warmup step has lr 0, as in HF", () => {
  assert.equal(linearSchedule({ lr: 1, warmupSteps: 4, totalSteps: 8 })(0), 0);
  assert.equal(cosineSchedule({ lr: 1, warmupSteps: 4, totalSteps: 8 })(0), 0);
  assert.equal(constantSchedule(0.5)(7), 0.5);
});

test("bad schedule options are UserErrors", () => {
  assert.throws(() => linearSchedule({ lr: 1, warmupSteps: 5, totalSteps: 3 }), UserError);
  assert.throws(() => cosineSchedule({ lr: -1, warmupSteps: 0, totalSteps: 3 }), UserError);
  assert.throws(() => cosineSchedule({ lr: 1, warmupSteps: 1.5, totalSteps: 3 }), UserError);
});
