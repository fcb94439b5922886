// The batched toy trainer: K adapters side by side equal K separate runs; no device buffers leak.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initEngine, liveBuffers, trackAllocations } from "../src/engine/index.ts";
import { prng } from "../src/core/index.ts";
import { makeToyBase, makeToyTasks } from "../src/models/toy.ts";
import { trainToyAdapters, type ToyAdapter, type ToyData, type ToyTrainOptions } from "../src/train/toy-trainer.ts";
import { toyAdapterInit, toyData } from "../src/experiments/toy/job.ts";
import { toySpec } from "../src/experiments/toy/spec.ts";

const spec = toySpec({ widths: [32], nTrain: 64, nTest: 16, steps: 6, logEvery: 2, lrs: [1e-3, 3e-2, 4], seeds: [0] });

async function setup(): Promise<{ data: ToyData; adapters: ToyAdapter[]; dispose: () => void }> {
  await initEngine();
  const n = 32;
  const root = prng.key(0);
  const tasks = makeToyTasks(spec, root);
  const base = await makeToyBase(spec, root, tasks, n);
  const data = toyData(spec, tasks, base);
  const adapters = (["init-a", "init-b"] as const).flatMap((init) => {
    const f = toyAdapterInit(spec, 0, n, init);
    return spec.lrs.map((lr) => ({ lr, A0: f.A, B0: f.B }));
  });
  const dispose = () => {
    for (const t of [data.H, data.C, data.y, data.Htest, data.Ctest, data.ytest, data.w]) t.dispose();
  };
  return { data, adapters, dispose };
}

const opts: ToyTrainOptions = {
  steps: spec.steps,
  logEvery: spec.logEvery,
  optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  scale: 1,
  divergeFactor: spec.divergeFactor,
  maxChunkElems: 2 ** 25,
};

function close(a: number, b: number, what: string): void {
  if (Number.isNaN(a) && Number.isNaN(b)) return;
  // 1e-5 relative, with an absolute floor for values that are ~0 (ΔB·Z_A at init-a's step 0 scale).
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b)) + 1e-7, `${what}: ${a} vs ${b}`);
}

test("K adapters trained together equal the same runs one at a time, in chunks too", async () => {
  const { data, adapters, dispose } = await setup();
  const together = await trainToyAdapters(data, adapters, opts);
  const chunked = await trainToyAdapters(data, adapters, { ...opts, maxChunkElems: 64 * 32 * 2 }); // chunks of 2
  for (let k = 0; k < adapters.length; k++) {
    const [alone] = await trainToyAdapters(data, [adapters[k] as ToyAdapter], opts);
    for (const other of [together[k], chunked[k]]) {
      assert.ok(other !== undefined && alone !== undefined);
      assert.equal(other.steps.length, alone.steps.length);
      other.steps.forEach((s, i) => {
        for (const [f, v] of Object.entries(s as unknown as Record<string, number>))
          close(
            v,
            (alone.steps[i] as unknown as Record<string, number>)[f] as number,
            `adapter ${k} step ${s.step} ${f}`,
          );
      });
      assert.equal(other.final.diverged, alone.final.diverged);
      assert.equal(other.final.divergedAt, alone.final.divergedAt);
      close(other.final.maxRmsZB, alone.final.maxRmsZB, `adapter ${k} maxRmsZB`);
    }
  }
  // Sanity of the outcome: the small lr trains, the huge one (lr = 4) diverges without disturbing it.
  const a0 = together[0]?.final;
  assert.ok(a0 !== undefined && !a0.diverged && a0.trainLoss < a0.initialTrainLoss);
  assert.ok(together[2]?.final.diverged, "lr = 4 should diverge");
  // Which factor is zero at step 0: init-a has B = 0 (dB starts at 0 and Z_B = 0), init-b has A = 0.
  assert.equal(together[0]?.steps[0]?.rmsZB, 0);
  assert.equal(together[3]?.steps[0]?.rmsZA, 0);
  dispose();
});

test("training steps leave the number of live device buffers unchanged", async () => {
  await initEngine();
  await trackAllocations();
  const { data, adapters, dispose } = await setup();
  await trainToyAdapters(data, adapters.slice(0, 2), opts); // warm-up: jit caches
  const before = liveBuffers();
  await trainToyAdapters(data, adapters.slice(0, 2), opts);
  const mid = liveBuffers();
  await trainToyAdapters(data, adapters.slice(0, 2), { ...opts, steps: 12 });
  assert.equal(mid, before);
  assert.equal(liveBuffers(), before);
  dispose();
});
