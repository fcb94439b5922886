// The resumable sweep: a rerun after an interruption (some job files missing, a temp file left by a
// killed writer) redoes only the missing jobs and ends with the same rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runToySweep } from "../src/experiments/toy/runner.ts";
import { toySpec } from "../src/experiments/toy/spec.ts";
import { runId } from "../src/experiments/toy/rows.ts";
import { pendingJobs } from "../src/experiments/toy/grid.ts";

const spec = toySpec({
  widths: [16, 32],
  lrs: [1e-3, 1e-2],
  seeds: [0, 1],
  nTrain: 40,
  nTest: 8,
  steps: 4,
  logEvery: 2,
});

test("grid → jobs groups runs by (width, seed) and skips finished runs", () => {
  const jobs = pendingJobs(spec, new Set());
  assert.equal(jobs.length, 4);
  assert.ok(jobs.every((j) => j.runs.length === 4));
  assert.equal(jobs[0]?.width, 32, "most expensive job first");
  const done = new Set([runId({ width: 16, seed: 1, init: "init-a", lr: 1e-3 })]);
  const after = pendingJobs(spec, done);
  assert.equal(after.find((j) => j.width === 16 && j.seed === 1)?.runs.length, 3);
});

test("an interrupted sweep resumes without redoing finished runs", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-sweep-"));
  try {
    const first = await runToySweep(spec, out, { workers: 2 }); // child processes
    assert.equal(first.runsSkipped, 0);
    const finals = first.rows.filter((r) => r.kind === "final");
    assert.equal(finals.length, 16);
    assert.ok(fs.existsSync(path.join(out, "spec.json")));
    const dir = path.join(out, "runs");
    const files = fs.readdirSync(dir).sort();
    assert.equal(files.length, 4);
    // Simulate a kill: one job never finished, and its writer left a temp file behind.
    const lost = files[0] as string;
    fs.rmSync(path.join(dir, lost));
    fs.writeFileSync(path.join(dir, `.${lost}.999.0123456789ab.tmp`), '{"kind":"fin');
    const kept = Object.fromEntries(files.slice(1).map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs]));
    let runsAtStart = -1;
    const second = await runToySweep(spec, out, {
      workers: 0,
      onProgress: (p) => {
        if (runsAtStart < 0) runsAtStart = p.runsDone;
      },
    });
    assert.equal(second.runsSkipped, 12);
    assert.equal(runsAtStart, 12);
    assert.deepEqual(fs.readdirSync(dir).sort(), files, "temp file cleaned, lost job rewritten");
    for (const [f, m] of Object.entries(kept))
      assert.equal(fs.statSync(path.join(dir, f)).mtimeMs, m, `${f} was rewritten`);
    const key = (r: { kind: string; step?: number } & Parameters<typeof runId>[0]) =>
      `${runId(r)}|${r.kind}|${r.step ?? ""}`;
    const sortRows = (rows: typeof first.rows) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    assert.deepEqual(sortRows(second.rows), sortRows(first.rows), "resumed rows equal the uninterrupted ones");
    // A third run finds everything done.
    const third = await runToySweep(spec, out, { workers: 0 });
    assert.equal(third.runsSkipped, 16);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
