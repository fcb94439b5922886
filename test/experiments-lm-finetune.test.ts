// The language-model finetune (experiments/lm): the spec's defaults and one-sentence refusals, PEFT's
// per-architecture target modules, and tiny runs on the bundled stories260K — the held-out loss
// falls on text it trains on, the dynamics at step 0 show which factor is zero, the output folder
// holds a PEFT CAUSAL_LM adapter with PEFT's keys, and a wild learning rate is a recorded outcome.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { buildFolderAtomic } from "../src/io/atomic.ts";
import { runLmFinetune } from "../src/experiments/lm/finetune.ts";
import { readMetrics } from "../src/train/metrics.ts";
import { LM_DEFAULTS, lmSpec, lmTargetModules } from "../src/experiments/lm/spec.ts";

const TEXT = "Once upon a time, there was a little dog named Max. He liked to run in the sun with his red ball.\n";
const dir = await mkdtemp(path.join(tmpdir(), "lorascope-lmft-"));
const data = path.join(dir, "story.txt");
await writeFile(data, TEXT.repeat(4));
// Tiny on purpose (CI has two cores): 16-token blocks, batches of 2, a few steps.
const tiny = { model: "stories260K", data, valid: data, seqLen: 16, batch: 2, steps: 4 } as const;

test("lmSpec fills the defaults and names the first bad field", () => {
  const s = lmSpec({ model: "stories260K", data: "sotu", init: "init-a", lr: 1e-3 });
  assert.deepEqual({ ...s, model: undefined, data: undefined, init: undefined, lr: undefined }, {
    ...LM_DEFAULTS, model: undefined, data: undefined, init: undefined, lr: undefined,
  });
  const bad = (p: Partial<Parameters<typeof lmSpec>[0]>, re: RegExp): void =>
    assert.throws(() => lmSpec({ model: "stories260K", data: "sotu", init: "init-a", lr: 1e-3, ...p }), (e: unknown) => e instanceof UserError && re.test(e.message));
  bad({ lr: 0 }, /^lr must be a positive number/);
  bad({ steps: 3, epochs: 1 }, /give steps or epochs, not both/);
  bad({ seqLen: 1 }, /seqLen must be an integer of at least 2/);
  bad({ batch: 0 }, /batch must be a positive integer/);
  bad({ targetModules: ["all-linear", "q_proj"] }, /"all-linear" stands alone/);
  bad({ init: "init-c" as never }, /init "init-c" is not known/);
});

test("target modules: PEFT's default per architecture, all-linear without the head, or as given", () => {
  assert.deepEqual(lmTargetModules({ targetModules: [] }, "llama"), ["q_proj", "v_proj"]);
  assert.deepEqual(lmTargetModules({ targetModules: [] }, "gpt2"), ["c_attn"]);
  assert.deepEqual(lmTargetModules({ targetModules: ["all-linear"] }, "llama"), ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);
  assert.ok(!lmTargetModules({ targetModules: ["all-linear"] }, "gpt2").includes("lm_head"));
  assert.deepEqual(lmTargetModules({ targetModules: ["o_proj"] }, "llama"), ["o_proj"]);
});

test("init-a on stories260K: the held-out loss falls, step 0 has Z_B = 0 ≠ Z_A, the folder is a PEFT CAUSAL_LM adapter", { timeout: 300_000 }, async () => {
  const out = path.join(dir, "run-a");
  const lines: string[] = [];
  const r = await runLmFinetune(
    lmSpec({ ...tiny, init: "init-a", lr: 1e-2, dynamicsEvery: 2, warmupFraction: 0 }),
    { outDir: out, extraFiles: new Map([["config.json", "{}\n"]]), progress: (l) => lines.push(l) },
  );
  assert.equal(r.diverged, false);
  assert.equal(r.collapsed, false);
  assert.equal(r.steps, 4);
  assert.equal(r.targets.length, 10); // q_proj and v_proj in five layers
  const v = r.validation;
  assert.ok(v !== null && v.after !== null);
  assert.ok(v.after.loss < v.before.loss - 0.05, `validation loss ${v.before.loss} → ${v.after.loss}`);
  assert.equal(v.before.perplexity, Math.exp(v.before.loss));
  assert.ok(lines.some((l) => /tokens\/s/.test(l)), "progress reports tokens/s");
  const step0 = r.dynamics.filter((d) => d.step === 0);
  assert.equal(step0.length, 10);
  for (const d of step0) assert.ok(d.rmsZB === 0 && d.rmsZA > 0, `${d.module}: Z_A ${d.rmsZA}, Z_B ${d.rmsZB}`);
  assert.deepEqual([...new Set(r.dynamics.map((d) => d.step))], [0, 2, 4]);

  assert.deepEqual((await readdir(out)).sort(), ["adapter_config.json", "adapter_model.safetensors", "config.json", "metrics.jsonl", "run.json"]);
  assert.equal(await readFile(path.join(out, "config.json"), "utf8"), "{}\n");
  const cfg = JSON.parse(await readFile(path.join(out, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(cfg["task_type"], "CAUSAL_LM");
  assert.equal(cfg["base_model_name_or_path"], "stories260K");
  assert.equal(cfg["fan_in_fan_out"], false);
  assert.deepEqual(cfg["target_modules"], ["q_proj", "v_proj"]);
  const weights = await readFile(path.join(out, "adapter_model.safetensors"));
  assert.ok(weights.includes(Buffer.from("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")));
  const metrics = readMetrics(path.join(out, "metrics.jsonl"));
  assert.deepEqual(metrics.filter((m) => m["loss"] !== undefined).map((m) => m.step), [1, 2, 3, 4], "one line per step");
  assert.deepEqual(metrics.filter((m) => m["valid"] !== undefined).map((m) => m.step), [0, 4]);
  assert.deepEqual(metrics.filter((m) => m["dynamics"] !== undefined).map((m) => m.step), [0, 2, 4]);
});

test("init-b: step 0 has Z_A = Z_B = 0 (A = 0), and the same seed gives the same data order", { timeout: 300_000 }, async () => {
  const r = await runLmFinetune({ ...lmSpec({ ...tiny, init: "init-b", lr: 1e-3, steps: 1 }), dynamicsEvery: 1 });
  for (const d of r.dynamics.filter((x) => x.step === 0)) assert.ok(d.rmsZA === 0 && d.rmsZB === 0, d.module);
  assert.ok(r.dynamics.some((d) => d.step === 1 && d.rmsZA > 0), "A moves off zero after one step");
});

test("early stopping keeps the best adapter: its validation loss is the best evaluation's", { timeout: 300_000 }, async () => {
  // A large rate makes the validation loss turn back up within a few steps, so patience 1 stops the run.
  const out = path.join(dir, "run-early");
  const r = await runLmFinetune(
    lmSpec({ ...tiny, init: "init-a", lr: 0.3, steps: 12, evalEvery: 1, earlyStopPatience: 1, dynamicsEvery: 0 }),
    { outDir: out },
  );
  const evals = readMetrics(path.join(out, "metrics.jsonl"))
    .filter((m) => m.step > 0 && m["valid"] !== undefined)
    .map((m) => (m["valid"] as { loss: number }).loss);
  assert.equal(evals.length, r.steps, "one evaluation per step");
  const v = r.validation;
  assert.ok(v !== null && v.after !== null);
  assert.ok(Math.abs(v.after.loss - Math.min(...evals)) < 1e-6, `kept ${v.after.loss}, evaluations ${evals.join(", ")}`);
  if (r.stoppedEarly) assert.notEqual(v.after.loss, evals.at(-1), "the last evaluation was not the best");
});

test("a wild learning rate is an outcome (diverged or collapsed), not a crash", { timeout: 300_000 }, async () => {
  const r = await runLmFinetune(lmSpec({ ...tiny, valid: data, init: "init-a", lr: 1e4, steps: 3, dynamicsEvery: 0 }));
  assert.ok(r.diverged || r.collapsed, `final loss ${r.losses.at(-1)}, validation ${JSON.stringify(r.validation?.after)}`);
});

test("a --seq-len beyond the model's positions is one sentence, and a failed folder build leaves nothing", async () => {
  await assert.rejects(
    runLmFinetune(lmSpec({ ...tiny, init: "init-a", lr: 1e-3, seqLen: 513 })),
    (e: unknown) => e instanceof UserError && /513 is more than stories260K's 512 positions/.test(e.message),
  );
  const out = path.join(dir, "half");
  await assert.rejects(
    buildFolderAtomic(out, async (tmp) => {
      await writeFile(path.join(tmp, "adapter_config.json"), "{}");
      throw new Error("disk full");
    }),
    /disk full/,
  );
  assert.deepEqual((await readdir(dir)).filter((n) => n.includes("half")), []);
});

test("lora_dropout: the same seed draws the same masks; dropout changes the training losses", { timeout: 120_000 }, async () => {
  const run = (dropout: number) =>
    runLmFinetune(lmSpec({ ...tiny, init: "init-b", lr: 5e-3, dynamicsEvery: 0, ...(dropout > 0 ? { dropout } : {}) }));
  const [a, b, none] = [await run(0.5), await run(0.5), await run(0)];
  assert.equal(a.lora.lora_dropout, 0.5);
  assert.deepEqual(a.losses, b.losses, "masks come from the seed and the step");
  // Init[B] (A = 0): step 1's loss is the base model's either way; the masks change the updates after it.
  assert.equal(a.losses[0], none.losses[0]);
  assert.notDeepEqual(a.losses.slice(1), none.losses.slice(1));
  assert.throws(() => lmSpec({ ...tiny, init: "init-a", lr: 1e-3, dropout: 1 }), /lora_dropout must be in \[0, 1\)/);
});
