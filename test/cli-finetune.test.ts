// `lorascope finetune` then `lorascope evaluate`, run as users run them: a tiny LoRA finetune on
// sentiment writes a PEFT adapter and run.json; evaluate reloads the adapter into a fresh model and
// must reproduce the saved test predictions exactly. Plus the one-sentence answers to bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope } from "./support/cli.ts";


const lastLine = (s: string): string => s.trimEnd().split("\n").at(-1) ?? "";

test("finetune writes an adapter whose reload reproduces the test predictions", { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-ft-"));
  const out = path.join(dir, "adapter");
  // Tiny on purpose (kernel compilation dominates on a CPU): 16 training and 8 test sentences.
  const ft = await lorascope(
    "finetune", "--model", "use-lite", "--task", "sentiment", "--init", "init-b", "--lr", "1e-3",
    "--limit", "16", "--eval-limit", "8", "--batch", "8", "--epochs", "1", "--out", out, "--json",
  );
  assert.equal(ft.code, 0, ft.stderr);
  const r = JSON.parse(lastLine(ft.stdout)) as Record<string, unknown> & {
    test: { accuracy: number };
    splits: { used: { train: number; test: number } };
  };
  assert.deepEqual(Object.keys(r), [
    "task",
    "init",
    "lr",
    "validation",
    "test",
    "probe",
    "examplesPerSecond",
    "evalExamplesPerSecond",
    "peakRssMiB",
    "diverged",
    "collapsed",
    "splits",
  ]);
  assert.equal(r["diverged"], false);
  assert.equal(typeof r["collapsed"], "boolean");
  assert.equal(r.splits.used.train, 16);
  assert.equal(r.splits.used.test, 8);
  assert.ok(r.test.accuracy >= 0 && r.test.accuracy <= 1);
  const config = JSON.parse(await readFile(path.join(out, "adapter_config.json"), "utf8")) as {
    modules_to_save: string[];
    r: number;
  };
  assert.deepEqual(config.modules_to_save, ["classifier"]);
  assert.equal(config.r, 8);

  const ev = await lorascope("evaluate", "--model", "use-lite", "--task", "sentiment", "--adapter", out, "--json");
  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(lastLine(ev.stdout)) as { matchesRun: boolean; maxLogitDiff: number; predictions: number[] };
  const saved = JSON.parse(await readFile(path.join(out, "run.json"), "utf8")) as { testPredictions: number[] };
  assert.deepEqual(e.predictions, saved.testPredictions);
  assert.equal(e.matchesRun, true);
  assert.equal(e.maxLogitDiff, 0); // same params, same batches: bit-identical logits

  // An adapter trained on another task is refused in one sentence.
  const bad = await lorascope("evaluate", "--model", "use-lite", "--task", "spam", "--adapter", out);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /trained on sentiment, not spam/);
});

test("unknown model or task is one sentence", async () => {
  const model = await lorascope("finetune", "--model", "gpt-9", "--task", "sentiment", "--lr", "1e-3");
  assert.equal(model.code, 2);
  assert.match(model.stderr, /--model "gpt-9" is not known; use one of use-lite/);
  assert.equal(model.stderr.trim().split("\n").length, 1);
  const task = await lorascope("finetune", "--model", "use-lite", "--task", "mnist", "--lr", "1e-3");
  assert.equal(task.code, 2);
  assert.match(task.stderr, /--task "mnist" is not known; use one of sentiment, spam/);
  const missing = await lorascope(
    "evaluate",
    "--model",
    "use-lite",
    "--task",
    "sentiment",
    "--adapter",
    "/nonexistent-adapter",
  );
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
});
