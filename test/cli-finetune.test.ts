// `lorascope finetune` then `lorascope evaluate`, run as users run them: a tiny LoRA finetune on
// sentiment writes a PEFT adapter, run.json and config.json; evaluate reloads the adapter into a fresh
// model and must reproduce the saved test predictions exactly, and `finetune --config config.json`
// must reproduce the run's numbers exactly. Plus the one-sentence answers to bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ENCODER_DEFAULTS as D } from "../src/experiments/encoder/spec.ts";
import { lorascope } from "./support/cli.ts";

interface RunJson {
  losses: number[];
  testLogits: number[][];
  validation: unknown;
}

/** The summary without what depends on the machine's speed and memory. */
const numbers = (r: Record<string, unknown>): Record<string, unknown> => {
  const { examplesPerSecond: _a, evalExamplesPerSecond: _b, peakRssMiB: _c, ...rest } = r;
  return rest;
};

test("finetune writes an adapter whose reload reproduces the test predictions, and a config.json that reruns it", { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-ft-"));
  const out = path.join(dir, "adapter");
  // Tiny on purpose (kernel compilation dominates on a CPU): 16 training and 8 test sentences.
  const ft = await lorascope(
    "finetune", "--model", "use-lite", "--task", "sentiment", "--init", "init-b", "--lr", "1e-3",
    "--limit", "16", "--eval-limit", "8", "--batch", "8", "--epochs", "1", "--out", out, "--json",
  );
  assert.equal(ft.code, 0, ft.stderr);
  // The whole of stdout is one JSON document; progress went to stderr.
  const r = JSON.parse(ft.stdout) as Record<string, unknown> & {
    test: { accuracy: number };
    splits: { used: { train: number; test: number } };
  };
  assert.deepEqual(Object.keys(r), ["task", "init", "lr", "validation", "test", "probe", "examplesPerSecond", "evalExamplesPerSecond", "peakRssMiB", "diverged", "collapsed", "stoppedEarly", "bestStep", "splits"]);
  assert.equal(r["diverged"], false);
  assert.equal(typeof r["collapsed"], "boolean");
  assert.equal(r.splits.used.train, 16);
  assert.equal(r.splits.used.test, 8);
  assert.ok(r.test.accuracy >= 0 && r.test.accuracy <= 1);
  const config = JSON.parse(await readFile(path.join(out, "adapter_config.json"), "utf8")) as { modules_to_save: string[]; r: number };
  assert.deepEqual(config.modules_to_save, ["classifier"]);
  assert.equal(config.r, 8);

  // config.json: every setting, defaults filled in, keyed by flag name.
  const settings = JSON.parse(await readFile(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(settings, {
    model: "use-lite", task: "sentiment", init: "init-b", lr: 1e-3, rank: D.r, alpha: D.loraAlpha, seed: D.seed, epochs: 1,
    "head-lr": D.headLr, "head-init": D.headInit, limit: 16, "eval-limit": 8, batch: 8, "warmup-fraction": D.warmupFraction,
    "weight-decay": D.weightDecay, "dynamics-every": D.dynamicsEvery, "target-modules": D.targetModules, dropout: D.dropout,
    "use-rslora": D.useRslora, schedule: D.schedule,
  });

  // Evaluate the adapter while the same run is redone from its config.json (the flag picks the folder).
  const again = path.join(dir, "again");
  const [ev, re] = await Promise.all([
    lorascope("evaluate", "--model", "use-lite", "--task", "sentiment", "--adapter", out, "--json"),
    lorascope("finetune", "--config", path.join(out, "config.json"), "-o", again, "--json"),
  ]);
  assert.equal(re.code, 0, re.stderr);
  assert.deepEqual(numbers(JSON.parse(re.stdout) as Record<string, unknown>), numbers(r));
  const [first, second] = await Promise.all([out, again].map(async (d) => JSON.parse(await readFile(path.join(d, "run.json"), "utf8")) as RunJson));
  assert.deepEqual(second?.losses, first?.losses);
  assert.deepEqual(second?.testLogits, first?.testLogits);
  assert.deepEqual(JSON.parse(await readFile(path.join(again, "config.json"), "utf8")), settings);

  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { matchesRun: boolean; maxLogitDiff: number; predictions: number[] };
  const saved = JSON.parse(await readFile(path.join(out, "run.json"), "utf8")) as { testPredictions: number[] };
  assert.deepEqual(e.predictions, saved.testPredictions);
  assert.equal(e.matchesRun, true);
  assert.equal(e.maxLogitDiff, 0); // same params, same batches: bit-identical logits

  // An adapter trained on another task is refused in one sentence.
  const bad = await lorascope("evaluate", "--model", "use-lite", "--task", "spam", "--adapter", out);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /trained on sentiment, not spam/);
});

test("a config file's unknown key is named with the allowed ones; usage errors exit 2", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-ft-config-"));
  const file = path.join(dir, "run.yaml");
  await writeFile(file, "task: sentiment\nlr: 0.001\nlearning_rate: 0.01\n");
  const r = await lorascope("finetune", "--config", file);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'lorascope finetune: run.yaml has an unknown key "learning_rate"; the allowed keys are model, task, data, init, lr, rank, alpha, seed, epochs, head-lr, head-init, limit, eval-limit, batch, warmup-fraction, target-modules, dropout, use-rslora, loraplus-lr-ratio, schedule, warmup, weight-decay, grad-clip, eval-every, early-stop-patience, dynamics-every, out, checkpoint-every, resume, json\n',
  );
  const twice = await lorascope("finetune", "--task", "spam", "--lr", "1e-3", "--lr", "1e-2");
  assert.equal(twice.code, 2);
  assert.equal(twice.stderr, "lorascope finetune: --lr was given more than once; give it once\n");
  const proto = await lorascope("finetune", "--task", "spam", "--lr", "1e-3", "--__proto__", "x");
  assert.equal(proto.code, 2);
  assert.match(proto.stderr, /unknown flag --__proto__; the flags are --config, --model, --task/);
  const missing = await lorascope("finetune", "--task", "spam");
  assert.deepEqual([missing.code, missing.stderr], [2, "lorascope finetune: --lr is required\n"]);
});

test("unknown model or task is one sentence", async () => {
  const model = await lorascope("finetune", "--model", "gpt-9", "--task", "sentiment", "--lr", "1e-3");
  assert.equal(model.code, 2);
  assert.match(model.stderr, /--model "gpt-9" is not known; use one of use-lite/);
  assert.equal(model.stderr.trim().split("\n").length, 1);
  const task = await lorascope("finetune", "--model", "use-lite", "--task", "mnist", "--lr", "1e-3");
  assert.equal(task.code, 2);
  assert.match(task.stderr, /--task "mnist" is not known; use one of sentiment, spam/);
  const missing = await lorascope("evaluate", "--model", "use-lite", "--task", "sentiment", "--adapter", "/nonexistent-adapter");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
});
