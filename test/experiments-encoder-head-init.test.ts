// `headInit: "probe"` (LP-FT) starts the finetune exactly at the linear probe: with B·A = 0 at
// initialization and learning rates too small to move anything, the finetuned model's held-out loss
// and accuracy are the probe's. A random head (the default) is not the probe, which shows the
// comparison can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../src/engine/index.ts";
import { runEncoderFinetune } from "../src/experiments/encoder/finetune.ts";
import { ENCODER_DEFAULTS, type EncoderFinetuneSpec } from "../src/experiments/encoder/spec.ts";

test("a probe-initialized head starts the finetune at the probe", { timeout: 120_000 }, async () => {
  await initEngine();
  const base: EncoderFinetuneSpec = {
    ...ENCODER_DEFAULTS,
    task: "sentiment",
    init: "init-a",
    // AdamW moves each weight by about lr per step: 1e-9 over 2 steps leaves the model where it began.
    lr: 1e-9,
    headLr: 1e-9,
    limit: 16,
    evalLimit: 16,
    batch: 8,
    dynamicsEvery: 0,
  };
  for (const init of ["init-a", "init-b"] as const) {
    const r = await runEncoderFinetune({ ...base, init, headInit: "probe" });
    for (const split of ["validation", "test"] as const) {
      assert.equal(r[split].accuracy, r.probe[split].accuracy, `${init} ${split} accuracy`);
      // Same head and embeddings, reached through the whole model instead of the cached embeddings
      // (float32 sums in another order): equal to a few ulps of the loss.
      assert.ok(
        Math.abs(r[split].loss - r.probe[split].loss) < 1e-5,
        `${init} ${split} loss ${r[split].loss} vs probe ${r.probe[split].loss}`,
      );
    }
  }
  const fresh = await runEncoderFinetune({ ...base, headInit: "random" });
  assert.ok(
    Math.abs(fresh.validation.loss - fresh.probe.validation.loss) > 1e-2,
    `a random head should not be the probe (loss ${fresh.validation.loss} vs ${fresh.probe.validation.loss})`,
  );
});

test("an unknown head init is one sentence", async () => {
  await assert.rejects(
    runEncoderFinetune({
      ...ENCODER_DEFAULTS,
      task: "sentiment",
      init: "init-a",
      lr: 1e-3,
      headInit: "zeros" as "random",
    }),
    /head init "zeros" is not known; use one of random, probe/,
  );
});
