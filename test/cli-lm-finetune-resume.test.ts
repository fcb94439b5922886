// `lorascope finetune --model stories260K --resume`: a finetune that dies after a checkpoint and is
// resumed ends exactly where the same finetune run straight through ends — the same adapter bytes,
// run.json numbers (losses, held-out losses, per-module dynamics whose δ span the checkpoint) and
// metrics.jsonl — with lora_dropout on (its masks come from per-step keys). The run dies by an
// exception thrown from its progress callback right after step 6 (its checkpoint is from step 4),
// which, unlike a kill, cannot race a run this small.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runLmFinetune } from "../src/experiments/lm/finetune.ts";
import { lmSpec } from "../src/experiments/lm/spec.ts";
import { lorascope } from "./support/cli.ts";

const root = await mkdtemp(path.join(tmpdir(), "lorascope-lm-resume-"));
const text = path.join(root, "story.txt");
await writeFile(text, "Once upon a time, there was a little dog named Max. He liked to run in the sun.\n".repeat(6));

/** run.json without the timing and memory figures (they differ between any two runs). */
async function numbers(dir: string): Promise<Record<string, unknown>> {
  const r = JSON.parse(await readFile(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
  const { tokensPerSecond: _a, peakRssMiB: _b, ...rest } = r;
  return rest;
}

test("an LM finetune that died after a checkpoint and was resumed ends where the straight run ends", { timeout: 300_000 }, async () => {
  const straight = path.join(root, "straight");
  const args = ["--model", "stories260K", "--data", text, "--valid", text, "--init", "init-b", "--lr", "5e-3", "--steps", "10"];
  const more = ["--batch", "2", "--seq-len", "16", "--dynamics-every", "3", "--schedule", "cosine", "--warmup", "2", "--dropout", "0.1"];
  const a = await lorascope("finetune", ...args, ...more, "--out", straight, "--json");
  assert.equal(a.code, 0, a.stderr);
  assert.ok(!existsSync(path.join(straight, "checkpoint")), "a finished run keeps no checkpoint");

  // The same run through the library, dying after step 6 with a checkpoint from step 4.
  const died = path.join(root, "died");
  const spec = lmSpec({
    model: "stories260K", data: text, valid: text, init: "init-b", lr: 5e-3, steps: 10, batch: 2, seqLen: 16,
    dynamicsEvery: 3, schedule: "cosine", warmupSteps: 2, dropout: 0.1,
  });
  await assert.rejects(
    runLmFinetune(spec, {
      outDir: died,
      extraFiles: new Map([["config.json", await readFile(path.join(straight, "config.json"), "utf8")]]),
      checkpointEvery: 4,
      progress: (line) => {
        if (line.startsWith("step 6/")) throw new Error("the run dies here");
      },
    }),
    /the run dies here/,
  );
  assert.ok(existsSync(path.join(died, "checkpoint", "checkpoint.json")));
  assert.ok(!existsSync(path.join(died, "run.json")));

  const b = await lorascope("finetune", "--resume", died, "--json");
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /resuming .* at step 4\/10/);
  assert.deepEqual(await numbers(died), await numbers(straight));
  const adapter = (dir: string): Promise<Buffer> => readFile(path.join(dir, "adapter_model.safetensors"));
  assert.deepEqual(await adapter(died), await adapter(straight));
  assert.equal(await readFile(path.join(died, "metrics.jsonl"), "utf8"), await readFile(path.join(straight, "metrics.jsonl"), "utf8"));
  assert.ok(!existsSync(path.join(died, "checkpoint")));
  const r = (await numbers(straight)) as { losses: number[]; dynamics: Array<{ step: number; delta2: number }> };
  assert.equal(r.losses.length, 10);
  // δ at step 6 spans the checkpoint at 4 (measured at 3 and 6): the resumed recorder kept step 3's state.
  assert.ok(r.dynamics.some((d) => d.step === 6 && Number.isFinite(d.delta2) && d.delta2 > 0));

  const extra = await lorascope("finetune", "--resume", died, "--lr", "1e-3");
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /--resume takes every setting from .*config\.json; drop --lr/);
});
