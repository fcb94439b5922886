// Pretraining from scratch (experiments/lm/pretrain): the spec's refusals, a tiny run whose held-out
// perplexity falls below the unigram baseline and whose saved folder loads back with the same loss,
// and an interrupted run resumed from its checkpoint to the same weights as the uninterrupted one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { unigramBaseline } from "../src/data/unigram.ts";
import { evaluateLm } from "../src/experiments/lm/evaluate.ts";
import { runPretrain, PRETRAIN_FILE } from "../src/experiments/lm/pretrain.ts";
import { intermediateSize, pretrainSpec, specDifference } from "../src/experiments/lm/pretrain-spec.ts";

const TEXT = [
  "The committee met on Tuesday and agreed to fund the new bridge across the river.",
  "Farmers in the valley reported a good harvest of corn, wheat and barley this year.",
  "The senator said that the budget must be balanced before any new taxes are raised.",
].join(" ");
const dir = await mkdtemp(path.join(tmpdir(), "lorascope-pretrain-"));
const data = path.join(dir, "news.txt");
await writeFile(data, `${TEXT}\n`.repeat(6));
// Tiny on purpose (CI has two cores): width 32 in two heads, one layer, 16-token blocks.
const tiny = {
  data, valid: data, width: 32, layers: 1, headDim: 16, seqLen: 16,
  batch: 4, steps: 24, lr: 1e-2, warmupSteps: 2, evalEvery: 8,
};

const refuses = (p: Partial<Parameters<typeof pretrainSpec>[0]>, re: RegExp): void =>
  assert.throws(
    () => pretrainSpec({ ...tiny, ...p }),
    (e: unknown) => e instanceof UserError && re.test(e.message),
    String(re),
  );

test("pretrainSpec: the family's shape and one sentence per bad setting", () => {
  assert.equal(intermediateSize(64), 192);
  assert.equal(intermediateSize(288), 768); // stories15M's MLP width, by the same rule
  refuses({ width: 48, headDim: 32 }, /--width 48 is not a multiple of --head-dim 32/);
  refuses({ headDim: 15, width: 30 }, /--head-dim must be even/);
  const { valid: _file, ...noValid } = tiny;
  assert.throws(() => pretrainSpec(noValid), /is a file, so pretraining needs held-out text too: give --valid/);
  refuses({ width: 4096, layers: 64, batch: 1024, seqLen: 4096 }, /needs about [\d.]+ GiB of engine memory/);
  refuses({ steps: 0 }, /--steps must be an integer in \[1, /);
  const a = pretrainSpec(tiny);
  assert.equal(specDifference(a, a), undefined);
  assert.equal(specDifference(a, pretrainSpec({ ...tiny, width: 64 })), "width 32 (here 64)");
});

test("the unigram baseline counts targets only, add-one smoothed", () => {
  // Targets of [0, 1, 1]: 1 twice; V = 3 → counts 1, 3, 1 of 5. Held-out [2, 1]: target 1 → −ln(3/5).
  const b = unigramBaseline([Int32Array.from([0, 1, 1])], [Int32Array.from([2, 1])], 3);
  assert.equal(b.tokens, 1);
  assert.ok(Math.abs(b.loss + Math.log(3 / 5)) < 1e-12);
});

test("a tiny pretraining learns below the unigram baseline; the saved folder loads with the same loss", async () => {
  const out = path.join(dir, "run");
  const r = await runPretrain(tiny, { outDir: out });
  assert.equal(r.diverged, false);
  assert.equal(r.steps, 24);
  assert.equal(r.losses.length, 24);
  assert.deepEqual(r.evals.map((e) => e.step), [8, 16, 24]);
  const final = r.validation.final;
  assert.ok(final !== null);
  assert.ok(final.perplexity < r.validation.unigram.perplexity, `${final.perplexity} vs unigram ${r.validation.unigram.perplexity}`);
  assert.ok((r.losses.at(-1) as number) < (r.losses[0] as number) - 1, `${r.losses[0]} → ${r.losses.at(-1)}`);
  const files = await readdir(out);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", PRETRAIN_FILE]) {
    assert.ok(files.includes(f), f);
  }
  assert.ok(!files.includes("checkpoint"), "a finished run leaves no checkpoint");
  const again = await evaluateLm({ model: out, data, seqLen: 16, batch: 4, split: "validation" });
  // The same held-out tokens through a reloaded model: only the batching of the sum may differ.
  assert.ok(Math.abs(again.loss - final.loss) < 1e-5 * final.loss, `${again.loss} vs ${final.loss}`);
  const saved = JSON.parse(await readFile(path.join(out, PRETRAIN_FILE), "utf8")) as { validation: { unigram: { perplexity: number } } };
  assert.equal(saved.validation.unigram.perplexity, r.validation.unigram.perplexity);
});

test("an interrupted pretraining resumes to the uninterrupted run's losses and weights", async () => {
  const whole = path.join(dir, "whole");
  const cut = path.join(dir, "cut");
  const a = await runPretrain(tiny, { outDir: whole });
  const stop = new AbortController();
  await assert.rejects(
    runPretrain(tiny, {
      outDir: cut, checkpointEvery: 5, signal: stop.signal, onStep: (s) => void (s === 13 && stop.abort()),
    }),
    /interrupted before step 14/,
  );
  assert.ok((await readdir(cut)).includes("checkpoint"));
  await assert.rejects(
    runPretrain({ ...tiny, lr: 2e-2 }, { outDir: cut, resume: true }),
    /pretrained with other settings: lr 0\.01 \(here 0\.02\)/,
  );
  const b = await runPretrain(tiny, { outDir: cut, resume: true });
  assert.equal(b.resumedFrom, 10);
  assert.deepEqual(b.losses, a.losses);
  assert.deepEqual(b.evals, a.evals);
  assert.deepEqual(await readFile(path.join(cut, "model.safetensors")), await readFile(path.join(whole, "model.safetensors")));
});
