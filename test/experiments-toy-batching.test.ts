// The batchAdapters execution switch: one-at-a-time jobs give the batched rows (to float32 rounding)
// and share the batched runs' resume hash, so either can finish the other's sweep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../src/engine/index.ts";
import { runToyJob } from "../src/experiments/toy/job.ts";
import { pendingJobs } from "../src/experiments/toy/grid.ts";
import { protocolHash, toySpec } from "../src/experiments/toy/spec.ts";
import { reproduceConfig } from "../src/cli/commands/reproduce.ts";

const spec = toySpec({ widths: [24], lrs: [1e-3, 3e-2, 4], seeds: [0], nTrain: 48, nTest: 8, steps: 5, logEvery: 2 });

test("batchAdapters and maxChunkElems leave the resume hash alone; the protocol does not", () => {
  const h = protocolHash(spec);
  assert.equal(protocolHash({ ...spec, batchAdapters: false }), h);
  assert.equal(protocolHash({ ...spec, maxChunkElems: 7 }), h);
  assert.notEqual(protocolHash({ ...spec, steps: 6 }), h);
});

test("--one-at-a-time turns batching off and nothing else", async () => {
  const plain = (await reproduceConfig([])).spec;
  assert.equal(plain.batchAdapters, true);
  const one = (await reproduceConfig(["--one-at-a-time"])).spec;
  assert.equal(one.batchAdapters, false);
  assert.deepEqual({ ...one, batchAdapters: true }, plain);
});

test("a job run one adapter at a time gives the batched job's rows", async () => {
  await initEngine();
  const [job] = pendingJobs(spec, new Set());
  assert.ok(job !== undefined && job.runs.length === 6);
  const batched = await runToyJob(spec, job);
  const single = await runToyJob({ ...spec, batchAdapters: false }, job);
  assert.equal(single.rows.length, batched.rows.length);
  batched.rows.forEach((row, i) => {
    const other = single.rows[i] as unknown as Record<string, unknown>;
    for (const [f, v] of Object.entries(row)) {
      const w = other[f];
      if (typeof v === "number" && typeof w === "number") {
        if (Number.isNaN(v) && Number.isNaN(w)) continue;
        // float32: the batched matmuls sum in a different order than K = 1 (same bound as train-toy.test.ts).
        assert.ok(Math.abs(v - w) <= 1e-5 * Math.max(Math.abs(v), Math.abs(w)) + 1e-7, `row ${i} ${f}: ${v} vs ${w}`);
      } else assert.deepEqual(w, v, `row ${i} ${f}`);
    }
  });
  assert.ok(batched.rows.some((r) => r.kind === "final" && r.diverged), "lr = 4 diverges in both");
});
