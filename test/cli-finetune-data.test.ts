// The user's own data end to end, as the README runs it: `finetune --data examples/data` with every
// LoRA, optimizer and loop option set, `evaluate --data` on the saved adapter, and a one-run
// `sweep --data`. Each option is checked where it shows in the run's files: rsLoRA and the target
// modules in the adapter, warmup and the schedule in metrics.jsonl's lr, the evaluation cadence and
// early stopping in metrics.jsonl and run.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readSafetensors } from "../src/io/safetensors.ts";
import { readMetrics } from "../src/train/metrics.ts";
import { scheduleOf } from "../src/train/optimizer.ts";
import { runOptions } from "../src/experiments/encoder/sweep.ts";
import { ENCODER_DEFAULTS } from "../src/experiments/encoder/spec.ts";
import { lorascope } from "./support/cli.ts";

const DATA = path.resolve(import.meta.dirname, "../examples/data");

test("finetune, evaluate and sweep run on a --data folder, and every option reaches the run", { timeout: 600_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), "lorascope-data-"));
  const out = path.join(root, "run");
  const sweepOut = path.join(root, "sweep");
  const [ft, sw] = await Promise.all([
    lorascope(
      "finetune", "--data", DATA, "--lr", "3e-3", "--batch", "8", "--epochs", "3", "--use-rslora", "--rank", "4",
      "--target-modules", "q_proj,v_proj", "--loraplus-lr-ratio", "4", "--grad-clip", "1", "--schedule", "constant",
      "--warmup", "2", "--eval-every", "2", "--early-stop-patience", "2", "--dynamics-every", "0", "--out", out, "--json",
    ),
    lorascope("sweep", "--data", DATA, "--lrs", "1e-3", "--inits", "init-b", "--batch", "8", "--workers", "0", "--out", sweepOut, "--json"),
  ]);
  assert.equal(ft.code, 0, ft.stderr);
  const run = JSON.parse(await readFile(path.join(out, "run.json"), "utf8")) as {
    spec: Record<string, unknown>;
    labels: string[];
    steps: number;
    stoppedEarly: boolean;
    bestStep: number;
    savedAdapter: string;
    lora: { use_rslora: boolean };
  };
  assert.deepEqual(run.labels, ["cooking", "sports", "weather"]);
  assert.equal(run.spec["data"], DATA);
  for (const [k, v] of Object.entries({ useRslora: true, loraplusLrRatio: 4, gradClip: 1, schedule: "constant", warmupSteps: 2, evalEvery: 2, earlyStopPatience: 2 })) {
    assert.deepEqual(run.spec[k], v, k);
  }

  // rsLoRA and target modules: in the PEFT adapter, only q_proj and v_proj carry factors.
  const config = JSON.parse(await readFile(path.join(out, "adapter_config.json"), "utf8")) as { use_rslora: boolean; target_modules: string[] };
  assert.equal(config.use_rslora, true);
  assert.deepEqual(config.target_modules, ["q_proj", "v_proj"]);
  const { tensors } = await readSafetensors(path.join(out, "adapter_model.safetensors"));
  const modules = new Set([...tensors.keys()].filter((k) => k.includes("lora_A")).map((k) => k.split(".").at(-3)));
  assert.deepEqual([...modules].sort(), ["q_proj", "v_proj"]);

  // metrics.jsonl: per-step lr follows warmup then constant; evaluations every 2 steps.
  const records = readMetrics(path.join(out, "metrics.jsonl"));
  const steps = records.filter((r) => "loss" in r);
  const evals = records.filter((r) => "valid" in r);
  assert.equal(steps.length, run.steps);
  const lr = scheduleOf({ schedule: "constant", warmupSteps: 2 }, 3e-3, 12);
  assert.deepEqual(steps.map((r) => r["lr"]), steps.map((r) => lr(r.step - 1)));
  assert.deepEqual(steps.slice(0, 3).map((r) => r["lr"]), [0, 1.5e-3, 3e-3]);
  assert.ok(steps.every((r) => typeof r["gradNorm"] === "number" && (r["gradNorm"]) > 0));
  assert.deepEqual(evals.map((r) => r.step), [2, 4, 6, 8, 10, 12].filter((s) => s <= run.steps));
  // Early stopping: bestStep is the lowest validation loss, the saved adapter is that one.
  const losses = evals.map((r) => (r["valid"] as { loss: number }).loss);
  assert.equal(run.bestStep, evals[losses.indexOf(Math.min(...losses))]?.step);
  assert.equal(run.savedAdapter, "best");
  assert.equal(run.stoppedEarly, run.steps < 12);

  // evaluate --data reloads the saved (best) adapter and reproduces the run's test predictions.
  const ev = await lorascope("evaluate", "--data", DATA, "--adapter", out, "--json");
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal((JSON.parse(ev.stdout) as { matchesRun: boolean }).matchesRun, true);

  assert.equal(sw.code, 0, sw.stderr);
  assert.deepEqual(await readdir(path.join(sweepOut, "runs")), ["init-b-lr0.001-seed0.json"]);
});

test("--task and --data together, or neither, is one sentence (exit 2)", async () => {
  const both = await lorascope("finetune", "--task", "spam", "--data", DATA, "--lr", "1e-3");
  assert.deepEqual([both.code, both.stderr], [2, "lorascope finetune: --task and --data cannot be given together; use --task for a built-in task or --data for your own folder\n"]);
  const neither = await lorascope("sweep");
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give --task \(sentiment or spam\) or --data DIR/);
  const module = await lorascope("finetune", "--data", DATA, "--lr", "1e-3", "--target-modules", "dense");
  assert.equal(module.code, 2);
  assert.match(module.stderr, /target module "dense" is not a module of the encoder/);
});

test("sweep settings hash only the options that change a run", () => {
  assert.deepEqual(runOptions({ schedule: "linear", dropout: 0, useRslora: false, targetModules: ENCODER_DEFAULTS.targetModules }), {});
  assert.deepEqual(runOptions({ dropout: 0.1, gradClip: 1, schedule: "linear" }), { dropout: 0.1, gradClip: 1 });
});
