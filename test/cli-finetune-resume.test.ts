// `lorascope finetune --resume`: a finetune killed with SIGKILL after a checkpoint and resumed ends
// exactly where the same finetune run straight through ends — the same adapter bytes, run.json
// numbers, dynamics and metrics.jsonl — with dropout on (its masks come from per-step keys) and the
// dynamics' δ spanning the checkpoint. On the example data folder (27 training sentences).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI_ARGS, lorascope } from "./support/cli.ts";

const DATA = path.resolve(import.meta.dirname, "../examples/data");
const RUN = [
  "finetune", "--data", DATA, "--lr", "3e-3", "--batch", "4", "--epochs", "2", "--eval-limit", "6",
  "--dropout", "0.1", "--eval-every", "3", "--dynamics-every", "3", "--schedule", "cosine", "--warmup", "2",
];

/** run.json without the timing and memory figures (they differ between any two runs). */
async function numbers(dir: string): Promise<Record<string, unknown>> {
  const r = JSON.parse(await readFile(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
  const { examplesPerSecond: _a, evalExamplesPerSecond: _b, peakRssMiB: _c, ...rest } = r;
  return rest;
}

test("a finetune killed after a checkpoint and resumed ends bit for bit where the straight run ends", { timeout: 600_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), "lorascope-resume-"));
  const straight = path.join(root, "straight");
  const killed = path.join(root, "killed");

  const child = spawn(process.execPath, [...CLI_ARGS, ...RUN, "--checkpoint-every", "4", "--out", killed], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const [a] = await Promise.all([
    lorascope(...RUN, "--out", straight, "--json"),
    (async () => {
      // Kill it as soon as its first checkpoint (step 4 of 14) is in place.
      while (!existsSync(path.join(killed, "checkpoint", "checkpoint.json"))) {
        if (child.exitCode !== null) break;
        await sleep(20);
      }
      child.kill("SIGKILL");
      await exited;
    })(),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(child.signalCode, "SIGKILL", "the run finished before it could be killed");
  assert.ok(!existsSync(path.join(killed, "run.json")));
  assert.ok(!existsSync(path.join(killed, "adapter_model.safetensors")));

  const b = await lorascope("finetune", "--resume", killed, "--json");
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /resuming .* at step \d+\/14/);
  assert.deepEqual(await numbers(killed), await numbers(straight));
  const adapter = (dir: string): Promise<Buffer> => readFile(path.join(dir, "adapter_model.safetensors"));
  assert.deepEqual(await adapter(killed), await adapter(straight));
  assert.equal(await readFile(path.join(killed, "metrics.jsonl"), "utf8"), await readFile(path.join(straight, "metrics.jsonl"), "utf8"));
  assert.ok(!existsSync(path.join(killed, "checkpoint")), "a finished run keeps no checkpoint");
  const r = (await numbers(straight)) as { losses: number[]; dynamics: Array<{ step: number; delta2: number }> };
  assert.equal(r.losses.length, 14);
  // A δ measured at step 6 against step 3, across the checkpoint at step 4.
  assert.ok(r.dynamics.some((d) => d.step === 6 && d.delta2 > 0));

  // Nothing left to resume once finished; settings cannot be changed on resume.
  const again = await lorascope("finetune", "--resume", killed);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has no checkpoint to resume/);
  const changed = await lorascope("finetune", "--resume", killed, "--lr", "1e-2");
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--resume takes every setting from .*config\.json; drop --lr/);
});
