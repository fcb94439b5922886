// argv → reproduce config: a pure function; bad flags give one sentence each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLrs, reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { UserError } from "../src/core/errors.ts";
import { TOY_DEFAULTS } from "../src/experiments/toy/spec.ts";
import { CLI_ARGS } from "./support/cli.ts";

test("defaults and overrides", () => {
  const d = reproduceConfig([]);
  assert.deepEqual(d.spec.widths, TOY_DEFAULTS.widths);
  assert.equal(d.json, false);
  const c = reproduceConfig([
    "--widths",
    "64,128",
    "--lrs",
    "2^-10:2^-2:5",
    "--seeds",
    "2",
    "--steps",
    "20",
    "--rank",
    "8",
    "--optimizer",
    "signsgd",
    "--inits",
    "init-b",
    "--json",
    "--log-every",
    "5",
    "--workers",
    "1",
    "--out",
    "/tmp/x",
  ]);
  assert.deepEqual(c.spec.widths, [64, 128]);
  assert.equal(c.spec.lrs.length, 5);
  assert.ok(
    Math.abs((c.spec.lrs[0] as number) - 2 ** -10) < 1e-15 && Math.abs((c.spec.lrs[4] as number) - 0.25) < 1e-12,
  );
  assert.deepEqual(c.spec.seeds, [0, 1]);
  assert.equal(c.spec.r, 8);
  assert.equal(c.spec.alpha, 8);
  assert.equal(c.spec.optimizer, "signsgd");
  assert.deepEqual(c.spec.inits, ["init-b"]);
  assert.equal(c.spec.logEvery, 5);
  assert.equal(c.workers, 1);
  assert.equal(c.out, "/tmp/x");
  assert.equal(c.json, true);
  assert.deepEqual(parseLrs("0.1,0.01"), [0.1, 0.01]);
  const q = reproduceConfig(["--quick", "--steps", "7"]);
  assert.equal(q.spec.steps, 7);
  assert.ok(q.spec.widths.length < TOY_DEFAULTS.widths.length);
});

test("bad flags are one-sentence user errors", () => {
  const bad: string[][] = [
    ["--inits", "init-c"],
    ["--inits", "pissa"],
    ["--lrs", "-0.1"],
    ["--lrs", "1:0.1:3"],
    ["--widths", ""],
    ["--widths", "2"],
    ["--seeds", "0"],
    ["--steps", "0"],
    ["--optimizer", "lion"],
    ["--frobnicate"],
  ];
  for (const argv of bad) {
    assert.throws(
      () => reproduceConfig(argv),
      (e: unknown) => e instanceof UserError && !e.message.includes("\n") && e.message.length > 10,
      argv.join(" "),
    );
  }
});

test("reproduce --json ends with the summary object and writes the report", async () => {
  const { spawnSync } = await import("node:child_process");
  const { mkdtempSync, existsSync, rmSync } = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const out = mkdtempSync(path.join(os.tmpdir(), "lorascope-json-"));
  try {
    const r = spawnSync(
      process.execPath,
      [...CLI_ARGS, "reproduce", "--widths", "16,32,64", "--lrs", "1e-3:1e-1:4", "--seeds", "2", "--steps", "8",
        "--workers", "0", "--out", out, "--json"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1] as string) as Record<string, Record<string, unknown>>;
    for (const key of [
      "slope",
      "slopeCI",
      "optimalLr",
      "bestLoss",
      "stableLr",
      "stableSlope",
      "stableSlopeCI",
      "rmsZAatOptimum",
      "diverged",
      "test",
    ]) {
      assert.ok(key in summary, `missing "${key}"`);
    }
    assert.deepEqual(Object.keys(summary["optimalLr"] as object).sort(), ["init-a", "init-b"]);
    assert.deepEqual(Object.keys((summary["optimalLr"] as Record<string, object>)["init-a"] as object).sort(), [
      "16",
      "32",
      "64",
    ]);
    assert.equal(typeof (summary["slope"] as Record<string, unknown>)["init-a"], "number");
    for (const f of ["index.html", "summary.md", "spec.json", "figures/fig-a.svg", "figures/fig-f.svg"]) {
      assert.ok(existsSync(path.join(out, f)), `${f} was not written`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
