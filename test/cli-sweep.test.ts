// `lorascope sweep --json`, run as users run it: stdout is one JSON document (the table goes to
// stderr), OUT/config.json records every setting, and `--config OUT/config.json` reruns the sweep
// (its one run already done, so it is skipped) with the same analysis.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ENCODER_DEFAULTS as D } from "../src/experiments/encoder/spec.ts";
import { lorascope } from "./support/cli.ts";

test("sweep --json prints one JSON document; its config.json reruns it", { timeout: 600_000 }, async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), "lorascope-sweep-")), "sweep");
  // One tiny run (16 training and 8 evaluation sentences) in this process.
  const first = await lorascope(
    "sweep", "--task", "sentiment", "--lrs", "1e-3", "--inits", "init-a", "--seeds", "1",
    "--limit", "16", "--eval-limit", "8", "--batch", "8", "-j", "0", "-o", out, "--json",
  );
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout) as { optimalLr: Record<string, number>; probe: { mean: number } };
  assert.deepEqual(Object.keys(summary.optimalLr), ["init-a"]);
  assert.equal(summary.optimalLr["init-a"], 1e-3);
  assert.ok(summary.probe.mean >= 0 && summary.probe.mean <= 1);
  assert.match(first.stderr, /η\*|eta/i); // the human table went to stderr

  const settings = JSON.parse(await readFile(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(settings, {
    model: "use-lite", task: "sentiment", lrs: [1e-3], inits: ["init-a"], seeds: 1, epochs: D.epochs, "head-lr": D.headLr,
    "head-init": D.headInit, limit: 16, "eval-limit": 8, batch: 8, "target-modules": D.targetModules, dropout: D.dropout,
    "use-rslora": D.useRslora, schedule: D.schedule, "weight-decay": D.weightDecay,
  });

  const again = await lorascope("sweep", "--config", path.join(out, "config.json"), "-o", out, "-j", "0", "--json");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /1 runs \(1 already done\)/);
  assert.deepEqual(JSON.parse(again.stdout), summary);
});
