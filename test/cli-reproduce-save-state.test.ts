// `reproduce --save-state`: every run gets a replay folder with the names and shapes docs/replay.md
// lists, its saved A₀/B₀ are the init scheme's factors (Init[A]: B₀ = 0; Init[B]: A₀ = 0), and a
// resumed sweep skips runs whose folders are complete but redoes one whose run.json is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { initEngine } from "../src/engine/index.ts";
import { runId } from "../src/experiments/toy/rows.ts";
import { toyAdapterInit } from "../src/experiments/toy/job.ts";
import { runToySweep } from "../src/experiments/toy/runner.ts";
import { sharedStateId, stateDir, stateRunId } from "../src/experiments/toy/state.ts";
import { toySpec } from "../src/experiments/toy/spec.ts";
import { loadAdapter, readSafetensors } from "../src/io/index.ts";

const spec = toySpec({ widths: [32], lrs: [1e-3, 3e-2], seeds: [0], nTrain: 40, nTest: 8, steps: 5, logEvery: 5 });
const [n, d, r, N] = [32, spec.inputDim, spec.r, spec.nTrain];

interface RunJson {
  optimizer: { name: string; lr: number; betas: number[] };
  training: { steps: number };
  files: { base: string };
  final: { trainLoss: number };
}

const shapes = async (file: string) => {
  const { tensors } = await readSafetensors(file);
  return Object.fromEntries([...tensors].map(([k, t]) => [k, { shape: [...t.shape], dtype: t.dtype, data: t.data }]));
};

test("--save-state parses and is no longer rejected", async () => {
  assert.equal((await reproduceConfig(["--save-state"])).saveState, true);
  assert.equal((await reproduceConfig([])).saveState, false);
});

test("run ids are filesystem-safe and distinguish init, width, lr and seed", () => {
  const id = stateRunId({ init: "init-b", width: 64, lr: 2 ** -11, seed: 1 });
  assert.equal(id, "init-b_n64_lr4.88281e-4_s1");
  assert.match(stateRunId({ init: "init-a", width: 8, lr: 2, seed: 0 }), /^[A-Za-z0-9._-]+$/);
});

test("replay folders hold the documented tensors, and A₀/B₀ follow the init scheme", async () => {
  await initEngine();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-state-"));
  try {
    const first = await runToySweep(spec, out, { workers: 0, saveState: true });
    assert.equal(first.runsTotal, 4);
    const shared = path.join(stateDir(out), sharedStateId(n, 0));
    const base = await shapes(path.join(shared, "base.safetensors"));
    assert.deepEqual(Object.keys(base).sort(), ["hidden.weight", "input.weight", "readout.weight"]);
    assert.deepEqual(base["input.weight"]?.shape, [n, d]);
    assert.deepEqual(base["hidden.weight"]?.shape, [n, n]);
    assert.deepEqual(base["readout.weight"]?.shape, [1, n]);
    assert.ok(Object.values(base).every((t) => t.dtype === "F32"));
    const data = await shapes(path.join(shared, "data.safetensors"));
    assert.deepEqual(data["train.x"]?.shape, [N, d]);
    assert.deepEqual(data["train.y"]?.shape, [N]);
    assert.deepEqual(data["test.x"]?.shape, [spec.nTest, d]);
    assert.deepEqual(data["test.y"]?.shape, [spec.nTest]);
    assert.deepEqual(data["task_a.x"]?.shape, [N, d]);
    assert.deepEqual(data["task_a.y"]?.shape, [N]);

    const finals = first.rows.filter((row) => row.kind === "final");
    for (const init of ["init-a", "init-b"] as const) {
      const want = toyAdapterInit(spec, 0, n, init);
      for (const lr of spec.lrs) {
        const dir = path.join(stateDir(out), stateRunId({ init, width: n, lr, seed: 0 }));
        const a0 = await shapes(path.join(dir, "adapter_init.safetensors"));
        const A0 = a0["base_model.model.hidden.lora_A.weight"];
        const B0 = a0["base_model.model.hidden.lora_B.weight"];
        assert.deepEqual(A0?.shape, [r, n]);
        assert.deepEqual(B0?.shape, [n, r]);
        assert.deepEqual(A0?.data, want.A);
        assert.deepEqual(B0?.data, want.B);
        const zero = init === "init-a" ? B0 : A0;
        const random = init === "init-a" ? A0 : B0;
        assert.ok(zero?.data.every((v) => v === 0), `${init}: the zero factor is zero`);
        assert.ok(random?.data.some((v) => v !== 0), `${init}: the other factor is random`);

        const adapter = await loadAdapter(dir);
        assert.equal(adapter.config.init_lora_weights, init);
        assert.deepEqual([...adapter.modules.keys()], ["hidden"]);
        const fin = adapter.modules.get("hidden");
        assert.deepEqual(fin?.A.shape, [r, n]);
        assert.ok(fin?.A.data.some((v, i) => v !== want.A[i]), "the final adapter moved away from A₀/B₀");

        const meta = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as RunJson;
        assert.equal(meta.optimizer.name, "adam");
        assert.equal(meta.optimizer.lr, lr);
        assert.deepEqual(meta.optimizer.betas, [spec.beta1, spec.beta2]);
        assert.equal(meta.training.steps, 5);
        assert.equal(meta.files.base, `../${sharedStateId(n, 0)}/base.safetensors`);
        const row = finals.find((f) => runId(f) === runId({ init, width: n, lr, seed: 0 }));
        assert.equal(meta.final.trainLoss, row?.kind === "final" ? row.trainLoss : NaN);
      }
    }

    // Resume: complete folders are skipped; a folder without run.json (a killed writer) is redone,
    // and its run keeps exactly one final row.
    const again = await runToySweep(spec, out, { workers: 0, saveState: true });
    assert.equal(again.runsSkipped, 4);
    const lost = { init: "init-b", width: n, lr: spec.lrs[1] as number, seed: 0 };
    fs.rmSync(path.join(stateDir(out), stateRunId(lost), "run.json"));
    const third = await runToySweep(spec, out, { workers: 0, saveState: true });
    assert.equal(third.runsSkipped, 3);
    assert.ok(fs.existsSync(path.join(stateDir(out), stateRunId(lost), "run.json")));
    assert.equal(third.rows.filter((row) => row.kind === "final" && runId(row) === runId(lost)).length, 1);
    assert.equal(third.rows.filter((row) => row.kind === "final").length, 4);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
