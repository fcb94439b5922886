// argv → reproduce config: bad flags give one sentence each; --config files; --json prints one JSON
// document; SIGINT and SIGTERM leave with 130 and 143.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLrs, reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { TOY_DEFAULTS, TOY_QUICK } from "../src/experiments/toy/spec.ts";
import { lorascope } from "./support/cli.ts";

test("defaults and overrides", async () => {
  const d = await reproduceConfig([]);
  assert.deepEqual(d.spec.widths, TOY_DEFAULTS.widths);
  assert.equal(d.json, false);
  const c = await reproduceConfig(["--widths", "64,128", "--lrs", "2^-10:2^-2:5", "--seeds", "2", "--steps", "20", "--rank", "8", "--optimizer", "signsgd", "--inits", "init-b", "--json", "--log-every", "5", "--workers", "1", "--out", "/tmp/x"]);
  assert.deepEqual(c.spec.widths, [64, 128]);
  assert.equal(c.spec.lrs.length, 5);
  const [first, last] = [c.spec.lrs[0] as number, c.spec.lrs[4] as number];
  assert.ok(Math.abs(first - 2 ** -10) < 1e-15 && Math.abs(last - 0.25) < 1e-12);
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
  const q = await reproduceConfig(["-q", "--steps", "7"]);
  assert.equal(q.spec.steps, 7);
  assert.ok(q.spec.widths.length < TOY_DEFAULTS.widths.length);
});

test("bad flags are one-sentence user errors", async () => {
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
    ["--constructor"],
    ["--steps", "5", "--steps", "6"],
  ];
  for (const argv of bad) {
    await assert.rejects(
      reproduceConfig(argv),
      (e: unknown) => e instanceof UserError && !e.message.includes("\n") && e.message.length > 10,
      argv.join(" "),
    );
  }
});

test("reproduce --json prints one JSON document on stdout and writes the report", async () => {
  const out = mkdtempSync(path.join(tmpdir(), "lorascope-json-"));
  try {
    const r = spawnSync(
      process.execPath,
      ["bin/lorascope.js", "reproduce", "--widths", "16,32,64", "--lrs", "1e-3:1e-1:4", "--seeds", "2", "--steps", "8",
        "--workers", "0", "--out", out, "--json"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    // The whole of stdout is the document (`| jq` works); progress and notes went to stderr.
    const summary = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    for (const key of ["slope", "slopeCI", "optimalLr", "bestLoss", "stableLr", "stableSlope", "stableSlopeCI", "rmsZAatOptimum", "diverged", "test"]) {
      assert.ok(key in summary, `missing "${key}"`);
    }
    assert.deepEqual(Object.keys(summary["optimalLr"] as object).sort(), ["init-a", "init-b"]);
    assert.deepEqual(Object.keys((summary["optimalLr"] as Record<string, object>)["init-a"] as object).sort(), ["16", "32", "64"]);
    assert.equal(typeof (summary["slope"] as Record<string, unknown>)["init-a"], "number");
    for (const f of ["index.html", "summary.md", "spec.json", "figures/fig-a.svg", "figures/fig-f.svg"]) {
      assert.ok(existsSync(path.join(out, f)), `${f} was not written`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("--config: YAML or JSON settings keyed by flag name; the command line overrides the file", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lorascope-reproduce-config-"));
  const yaml = path.join(dir, "toy.yaml");
  writeFileSync(yaml, "quick: true\nwidths: [16, 32]\nlrs: 2^-8:2^-2:4\ninits: [init-b]\nsteps: 9\n");
  const c = await reproduceConfig(["--config", yaml, "--steps", "3"]);
  assert.deepEqual(c.spec.widths, [16, 32]);
  assert.equal(c.spec.lrs.length, 4);
  assert.deepEqual(c.spec.inits, ["init-b"]);
  assert.equal(c.spec.steps, 3); // the flag beats the file's 9
  assert.deepEqual(c.spec.seeds, TOY_QUICK.seeds); // from --quick in the file
  const json = path.join(dir, "toy.json");
  writeFileSync(json, JSON.stringify({ widths: [16], stepz: 3 }));
  await assert.rejects(reproduceConfig(["-c", json]), (e: unknown) => e instanceof UserError && /toy\.json has an unknown key "stepz"; the allowed keys are study, widths, lrs, seeds/.test(e.message));
});

test("exit codes: 2 for a usage error (nothing runs), 0 for help and --version", async () => {
  const usage = await lorascope("reproduce", "--steps", "0");
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr, "lorascope reproduce: --steps must be at least 1, got 0\n");
  assert.equal((await lorascope("frobnicate")).code, 2);
  assert.equal((await lorascope()).code, 2);
  const help = await lorascope("help", "reproduce");
  assert.equal(help.code, 0);
  assert.equal(help.stdout, (await lorascope("reproduce", "--help")).stdout);
  assert.match(help.stdout, /^Usage: lorascope reproduce/);
  const v = await lorascope("--version");
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  assert.deepEqual([v.code, v.stdout], [0, `lorascope ${pkg.version}\n`]);
});

/** Start `reproduce --quick`, wait until it is sweeping (OUT/runs exists), send `signal`. */
async function interrupted(signal: "SIGINT" | "SIGTERM"): Promise<{ code: number | null; stderr: string }> {
  const out = mkdtempSync(path.join(tmpdir(), `lorascope-${signal}-`));
  const child = spawn(process.execPath, ["bin/lorascope.js", "reproduce", "--quick", "--workers", "1", "--out", out], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // The handlers are installed before the sweep makes OUT/runs.
  while (!existsSync(path.join(out, "runs"))) await new Promise((r) => setTimeout(r, 50));
  child.kill(signal);
  const code = await exited;
  rmSync(out, { recursive: true, force: true });
  return { code, stderr };
}

test("SIGINT exits 130 and SIGTERM 143, saying how many runs are saved", { timeout: 120_000 }, async () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const r = await interrupted(signal);
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, new RegExp(`interrupted \\(${signal}\\); \\d+ of 60 runs are saved in .*runs; run the same command again to resume`));
  }
});
