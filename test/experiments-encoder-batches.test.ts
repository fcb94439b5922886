// Length-grouped batches and the padded last batch of the USE-lite finetune: every example once per
// epoch, at most one short batch, few padded lengths; weight-0 padding rows change nothing in the
// loss. And the USE sweep skips runs whose row is already on disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import * as prng from "../src/core/prng.ts";
import { initEngine, readScalar, tensor } from "../src/engine/index.ts";
import {
  batchOf,
  bucketFor,
  bucketedBatches,
  crossEntropy,
  oneHot,
  weightedCrossEntropy,
  type Cached,
} from "../src/models/use-lite/classifier.ts";
import { runId, runEncoderSweep, sweepRuns } from "../src/experiments/encoder/sweep.ts";
import { runsDir } from "../src/experiments/store.ts";

function fakeData(n: number): Cached {
  const u = prng.uniform(prng.key(5), [n]);
  // Mostly short sentences, a few long ones: like the sentiment set.
  const lengths = Array.from(u, (v) => (v < 0.8 ? 3 + Math.floor(v * 15) : 17 + Math.floor((v - 0.8) * 500)));
  return { rows: lengths.map((l) => new Float32Array(l * 256)), labels: lengths.map((_, i) => i % 2) };
}

test("bucketed batches cover every example once, with at most one short batch", () => {
  const data = fakeData(203);
  const batches = bucketedBatches(prng.key(1), 0, data, 16);
  assert.deepEqual([...batches.flat()].sort((a, b) => a - b), [...Array(203).keys()]);
  assert.equal(batches.length, Math.ceil(203 / 16));
  assert.equal(batches.filter((b) => b.length < 16).length, 1);
  const bucketOf = (b: number[]) => bucketFor(Math.max(...b.map((i) => (data.rows[i] as Float32Array).length / 256)));
  const short = batches.filter((b) => bucketOf(b) === 16).length;
  // 80 % of the sentences are ≤ 17 tokens: grouped, most batches pad to 16 (random batches: ~none).
  assert.ok(short >= 8, `${short} batches at length 16`);
  assert.notDeepEqual(bucketedBatches(prng.key(1), 1, data, 16), batches);
});

test("a padded batch has weight 0 rows that change neither shape bucket nor loss", async () => {
  await initEngine();
  const data = fakeData(20);
  const idx = [0, 1, 2];
  const { x, mask, weight } = batchOf(data, idx, 8);
  assert.deepEqual(x.shape.slice(0, 2), [
    8,
    bucketFor(Math.max(...idx.map((i) => (data.rows[i] as Float32Array).length / 256))),
  ]);
  assert.deepEqual(mask.shape[0], 8);
  x.dispose();
  mask.dispose();
  const z = prng.normal(prng.key(2), [8 * 2]);
  const padded = await readScalar(weightedCrossEntropy(tensor(z, [8, 2]), oneHot(data.labels, idx, 2, 8), weight));
  const plain = await readScalar(crossEntropy(tensor(z.slice(0, 6), [3, 2]), oneHot(data.labels, idx, 2)));
  assert.ok(Math.abs(padded - plain) < 1e-6, `${padded} vs ${plain}`);
});

test("the sweep skips runs whose row exists and reads back only its own grid", async () => {
  const out = await mkdtemp(path.join(tmpdir(), "lorascope-use-sweep-"));
  const spec = {
    task: "sentiment" as const,
    lrs: [1e-3, 3e-3],
    inits: ["init-a" as const, "init-b" as const],
    seeds: 1,
    epochs: 1,
    headLr: 1e-2,
    batch: 16,
  };
  await mkdir(runsDir(out), { recursive: true });
  for (const r of sweepRuns(spec)) {
    const row = {
      init: r.init,
      lr: r.lr,
      seed: r.seed,
      diverged: false,
      validation: { accuracy: 0.5 },
      test: { accuracy: 0.5 },
      probe: { validation: { accuracy: 0.5 }, test: { accuracy: 0.5 } },
      examplesPerSecond: 1,
    };
    await writeFile(path.join(runsDir(out), `${runId(r.init, r.lr, r.seed)}.json`), JSON.stringify(row));
  }
  await writeFile(path.join(runsDir(out), `${runId("init-a", 0.1, 0)}.json`), "{}"); // another grid's row
  const res = await runEncoderSweep(spec, out, { workers: 0 });
  assert.equal(res.runsTotal, 4);
  assert.equal(res.runsSkipped, 4);
  assert.equal(res.rows.length, 4);
  // A rerun may add lrs, inits or seeds, but not change how a run trains.
  await assert.rejects(
    runEncoderSweep({ ...spec, epochs: 2 }, out, { workers: 0 }),
    (e: unknown) => e instanceof UserError && /holds a sweep run with other settings/.test(e.message),
  );
  const wider = await runEncoderSweep({ ...spec, seeds: 1, lrs: [1e-3] }, out, { workers: 0 });
  assert.equal(wider.runsSkipped, 2);
});
