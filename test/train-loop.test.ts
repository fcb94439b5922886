// The model-agnostic loop pieces of src/train: metrics.jsonl (whole lines, NaN kept, cut back on
// resume), early stopping, checkpoints (bit-exact round trip, atomic replacement), the loop driver
// (a run killed after a checkpoint and resumed ends bit for bit where the straight run does), and
// the finetune optimizer's options (schedules, LoRA+, clipping) reaching the updates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { flatten, type Params } from "../src/core/tree.ts";
import * as prng from "../src/core/prng.ts";
import { np, read, tensor, type Tensor } from "../src/engine/index.ts";
import { createTrainer, type TrainState } from "../src/train/trainer.ts";
import { METRICS_FILE, openMetrics, readMetrics } from "../src/train/metrics.ts";
import { EARLY_STOP_START, isEvalStep, observe } from "../src/train/early-stop.ts";
import { checkpointDir, loadCheckpoint, saveCheckpoint } from "../src/train/checkpoint.ts";
import { runLoop, type LoopState } from "../src/train/loop.ts";
import { finetuneOptimizer, scheduleOf } from "../src/train/optimizer.ts";
import type { OptimizerOptions } from "../src/train/options.ts";

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), "lorascope-loop-"));

test("metrics.jsonl: one whole line per record, NaN and ±Infinity kept, cut back to the checkpoint on resume", () => {
  const out = tmp();
  try {
    const m = openMetrics(out);
    m.write({ step: 1, loss: 0.5, lr: 1e-3, gradNorm: 2 });
    m.write({ step: 2, loss: NaN, lr: 1e-3, gradNorm: Infinity });
    m.write({ step: 2, valid: { loss: 0.25, accuracy: 1 } });
    m.write({ step: 3, loss: 0.1, lr: 1e-3, gradNorm: -Infinity });
    m.close();
    const file = path.join(out, METRICS_FILE);
    assert.equal(readFileSync(file, "utf8").split("\n").length, 5); // 4 lines and the final newline
    assert.deepEqual(readMetrics(file)[1], { step: 2, loss: NaN, lr: 1e-3, gradNorm: Infinity });
    appendFileSync(file, '{"step":4,"lo'); // a write cut short by a kill
    assert.equal(readMetrics(file).length, 4);
    const again = openMetrics(out, { resumeAt: 2 });
    again.write({ step: 3, loss: 0.2, lr: 1e-3, gradNorm: 1 });
    again.close();
    assert.deepEqual(readMetrics(file).map((r) => [r.step, "valid" in r]), [[1, false], [2, false], [2, true], [3, false]]);
    assert.equal(readMetrics(file)[3]?.["loss"], 0.2);
    openMetrics(out).close(); // a fresh run starts an empty file
    assert.equal(readFileSync(file, "utf8"), "");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("early stopping counts evaluations without improvement; evaluation steps include the last", () => {
  let s = EARLY_STOP_START;
  const stops: boolean[] = [];
  for (const [step, v] of [[10, 1.0], [20, 0.8], [30, 0.9], [40, 0.8], [50, 0.85]] as const) {
    const o = observe(s, step, v, "min", 3);
    s = o.state;
    stops.push(o.stop);
  }
  assert.deepEqual(stops, [false, false, false, false, true]); // 0.8 again is not an improvement
  assert.deepEqual(s, { best: 0.8, bestStep: 20, bad: 3 });
  assert.equal(observe(EARLY_STOP_START, 1, NaN, "min", 1).improved, false);
  assert.equal(observe({ best: 0.5, bestStep: 1, bad: 0 }, 2, 0.6, "max", undefined).improved, true);
  assert.equal(observe({ best: 0.5, bestStep: 1, bad: 9 }, 2, 0.4, "max", undefined).stop, false);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].filter((t) => isEvalStep(t, 3, 7)), [3, 6, 7]);
  assert.deepEqual([1, 2, 3].filter((t) => isEvalStep(t, 0, 3)), [3]);
});

/** A two-factor toy: loss = mean((x·Aᵀ·Bᵀ − y)²) on a batch drawn from the step number. */
function toy(opts: OptimizerOptions, totalSteps: number) {
  const params = (): Params => ({
    m: {
      lora_A: { weight: tensor(prng.normal(prng.key(1), [2, 4], 0.5), [2, 4]) },
      lora_B: { weight: tensor(prng.normal(prng.key(2), [3, 2], 0.5), [3, 2]) },
    },
  });
  const optimizer = finetuneOptimizer(opts, 0.05, totalSteps);
  const trainer = createTrainer({
    optimizer,
    trainable: () => true,
    loss: (p, x, y) => {
      const m = p["m"] as { lora_A: { weight: Tensor }; lora_B: { weight: Tensor } };
      const pred = np.matmul(np.matmul(x, m.lora_A.weight.transpose()), m.lora_B.weight.transpose()); // [8, 3]
      return np.square(pred.sub(y)).mean();
    },
  });
  const batch = (step: number): [Tensor, Tensor] => {
    const k = prng.fold(prng.key(7), step); // the batch is a function of the step: resumable
    return [tensor(prng.normal(prng.fold(k, "x"), [8, 4]), [8, 4]), tensor(prng.normal(prng.fold(k, "y"), [8, 3]), [8, 3])];
  };
  const sched = scheduleOf(opts, 0.05, totalSteps);
  const step = async (s: TrainState, t: number) => {
    const out = await trainer.step(s, ...batch(t));
    return { state: out.state, loss: out.loss, lr: sched(t) as number, gradNorm: 0 };
  };
  return { trainer, params, step, optimizer };
}

const bytes = async (p: Params): Promise<number[][]> =>
  Promise.all(flatten(p).map(async ([, t]) => [...(await read(t))]));

test("a loop killed after a checkpoint and resumed ends bit for bit where the straight run ends", async () => {
  const opts: OptimizerOptions = { schedule: "cosine", warmupSteps: 2, weightDecay: 0.01, gradClip: 1, loraplusLrRatio: 4 };
  const total = 9;
  const straightDir = tmp();
  const resumedDir = tmp();
  try {
    const a = toy(opts, total);
    const sinkA = openMetrics(straightDir);
    const straight = await runLoop({ totalSteps: total, step: a.step, evalEvery: 0, watch: { key: "loss", mode: "min" }, sink: sinkA }, a.trainer.init(a.params()));
    sinkA.close();
    const want = await bytes(straight.state.trainable);

    // The interrupted run: checkpoints every 4 steps, dies during step 7 (after the step-4 checkpoint
    // and the records of steps 5–6).
    const b = toy(opts, total);
    const save = async (s: TrainState, step: number, loop: LoopState) =>
      saveCheckpoint(resumedDir, { step, trainable: s.trainable, optState: s.optState, meta: loop, host: new Map([["x", Float64Array.of(step, Math.PI)]]) });
    const sinkB = openMetrics(resumedDir);
    const dying = async (s: TrainState, t: number) => {
      if (t === 6) throw new Error("killed");
      return b.step(s, t);
    };
    await assert.rejects(runLoop({ totalSteps: total, step: dying, evalEvery: 0, watch: { key: "loss", mode: "min" }, sink: sinkB, checkpoint: { every: 4, save } }, b.trainer.init(b.params())), /killed/);
    sinkB.close();
    assert.equal(readMetrics(path.join(resumedDir, METRICS_FILE)).length, 6);

    // Resume: a fresh run's state as the template, the checkpoint's tensors in it.
    const c = toy(opts, total);
    const fresh = c.trainer.init(c.params());
    const ck = await loadCheckpoint<LoopState>(resumedDir, { trainable: fresh.trainable, optState: fresh.optState });
    assert.equal(ck.step, 4);
    assert.deepEqual([...(ck.host.get("x") ?? [])], [4, Math.PI]);
    const sinkC = openMetrics(resumedDir, { resumeAt: ck.step });
    const resumed = await runLoop(
      { totalSteps: total, step: c.step, evalEvery: 0, watch: { key: "loss", mode: "min" }, sink: sinkC, start: { step: ck.step, loop: ck.meta } },
      { trainable: ck.trainable, frozen: fresh.frozen, optState: ck.optState, step: ck.step },
    );
    sinkC.close();
    assert.equal(resumed.steps, total);
    assert.deepEqual(await bytes(resumed.state.trainable), want);
    assert.deepEqual(await bytes(resumed.state.optState as Params), await bytes(straight.state.optState as Params));
    assert.equal(readFileSync(path.join(resumedDir, METRICS_FILE), "utf8"), readFileSync(path.join(straightDir, METRICS_FILE), "utf8"));
  } finally {
    rmSync(straightDir, { recursive: true, force: true });
    rmSync(resumedDir, { recursive: true, force: true });
  }
});

test("a checkpoint of another run's shapes is refused in one sentence; a replaced checkpoint leaves no temp folder", async () => {
  const out = tmp();
  try {
    const t = toy({ schedule: "linear", warmupSteps: 0, weightDecay: 0 }, 3);
    const s = t.trainer.init(t.params());
    await saveCheckpoint(out, { step: 1, trainable: s.trainable, optState: s.optState, meta: {}, host: new Map() });
    await saveCheckpoint(out, { step: 2, trainable: s.trainable, optState: s.optState, meta: {}, host: new Map() });
    assert.equal(checkpointDir(out), path.join(out, "checkpoint"));
    assert.ok(!existsSync(path.join(out, ".checkpoint.old")));
    const other: Params = {
      m: {
        lora_A: { weight: tensor(new Float32Array(4), [1, 4]) },
        lora_B: { weight: tensor(new Float32Array(3), [3, 1]) },
      },
    };
    await assert.rejects(
      loadCheckpoint(out, { trainable: other, optState: t.optimizer.init(other) }),
      (e: unknown) => e instanceof UserError && /params\.m\.lora_A\.weight is \[2, 4\], the run has \[1, 4\]/.test(e.message),
    );
    await assert.rejects(loadCheckpoint(tmp(), { trainable: {}, optState: {} }), /has no checkpoint to resume/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("early stopping stops the loop, reports the best step, and calls onBest at each improvement", async () => {
  const t = toy({ schedule: "constant", warmupSteps: 0, weightDecay: 0 }, 20);
  const valid = [0.9, 0.7, 0.8, 0.75, 0.6]; // best at the 2nd evaluation, then 2 without improvement
  const best: number[] = [];
  const r = await runLoop(
    {
      totalSteps: 20,
      step: t.step,
      evalEvery: 2,
      evaluate: async (_s, step) => ({ loss: valid[step / 2 - 1] ?? 0 }),
      watch: { key: "loss", mode: "min" },
      patience: 2,
      onBest: async (_s, step) => void best.push(step),
    },
    t.trainer.init(t.params()),
  );
  assert.deepEqual([r.stoppedEarly, r.steps, r.bestStep, r.best], [true, 8, 4, 0.7]);
  assert.deepEqual(best, [2, 4]);
});

test("schedules: constant with warmup, linear and cosine follow HF's lambdas", () => {
  const c = scheduleOf({ schedule: "constant", warmupSteps: 4 }, 1, 10);
  assert.deepEqual([0, 2, 4, 9].map((s) => c(s)), [0, 0.5, 1, 1]);
  const l = scheduleOf({ schedule: "linear", warmupSteps: 2 }, 1, 10);
  assert.deepEqual([1, 2, 6, 10].map((s) => l(s)), [0.5, 1, 0.5, 0]);
  const cos = scheduleOf({ schedule: "cosine", warmupSteps: 0 }, 2, 10);
  assert.ok(Math.abs((cos(5) as number) - 1) < 1e-12); // half way down half a cosine: lr/2
  // A tensor step gives the same number (inside jit the step is a tensor).
  assert.ok(Math.abs((c(np.array(2)) as Tensor).item() - 0.5) < 1e-7);
});

test("LoRA+ trains lora_B ratio× faster than lora_A; clipping bounds what reaches Adam's moments", async () => {
  // The same gradient on A and B: Adam's first update is lr·g/(|g|+eps) per coordinate, so |ΔB|/|ΔA| is the ratio.
  const grads = (): Params => ({
    m: { lora_A: { weight: tensor([3, -1], [1, 2]) }, lora_B: { weight: tensor([3, -1], [2, 1]) } },
  });
  const ps = grads();
  const opt = finetuneOptimizer({ schedule: "constant", warmupSteps: 0, weightDecay: 0, loraplusLrRatio: 16 }, 1e-3, 10);
  const [u] = opt.update(grads(), opt.init(ps), ps, 0);
  const ua = await read(flatten(u).find(([p]) => p.endsWith("lora_A.weight"))?.[1] as Tensor);
  const ub = await read(flatten(u).find(([p]) => p.endsWith("lora_B.weight"))?.[1] as Tensor);
  assert.ok(Math.abs((ub[0] as number) / (ua[0] as number) - 16) < 1e-4, `${ub[0]} / ${ua[0]}`);

  const clipped = finetuneOptimizer({ schedule: "constant", warmupSteps: 0, weightDecay: 0, gradClip: 0.5 }, 1e-3, 10);
  const [, st] = clipped.update(grads(), clipped.init(ps), ps, 0);
  // chain state [clip, groups]; the adapter group's adamw chain [adam {mu, nu}, lr]: ‖mu‖ = (1 − β1)·‖clipped g‖.
  const mu = flatten(((st as unknown[])[1] as Record<string, unknown[]>)["adapter"]?.[0] as Params).filter(([p]) => p.startsWith("mu."));
  let sq = 0;
  for (const [, t] of mu) for (const v of await read(t)) sq += v * v;
  assert.ok(Math.abs(Math.sqrt(sq) - 0.1 * 0.5) < 1e-6, `‖mu‖ = ${Math.sqrt(sq)}`); // unclipped it would be 0.1·√20
});
