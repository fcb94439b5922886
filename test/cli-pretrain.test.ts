// `lorascope pretrain` run as users run it: a tiny pretraining writes a model folder that `evaluate`
// loads to the run's validation loss; a killed run resumes with --resume to the same weights; bad
// settings are one sentence with exit code 2 and nothing written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { lorascope } from "./support/cli.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-cli-pretrain-"));
const text = path.join(dir, "news.txt");
await writeFile(text, "The committee met on Tuesday and agreed to fund the new bridge across the river.\n".repeat(12));
const TINY = [
  "--data", text, "--valid", text, "--width", "32", "--layers", "1", "--head-dim", "16", "--seq-len", "16", "--batch", "4", "--lr", "1e-2",
];

test("pretrain writes a Hugging Face folder that evaluate reloads to the run's validation loss", { timeout: 300_000 }, async () => {
  const out = path.join(dir, "run");
  const r = await lorascope("pretrain", ...TINY, "--steps", "12", "--eval-every", "6", "--out", out, "--json");
  assert.equal(r.code, 0, r.stderr);
  type Result = { steps: number; validation: { final: { loss: number; tokens: number } } };
  const result = JSON.parse(r.stdout) as Result;
  assert.equal(result.steps, 12);
  assert.match(r.stderr, /tokens\/s/);
  const settings = JSON.parse(await readFile(path.join(out, "pretrain-config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(settings["width"], 32);
  assert.equal(settings["out"], undefined, "where output goes is not a setting");
  const ev = await lorascope("evaluate", "--model", out, "--data", text, "--seq-len", "16", "--batch", "4", "--json");
  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { loss: number; tokens: number };
  assert.equal(e.tokens, result.validation.final.tokens);
  assert.ok(Math.abs(e.loss - result.validation.final.loss) < 1e-5 * e.loss, `${e.loss} vs ${result.validation.final.loss}`);
});

test("a pretrain killed mid-run resumes with --resume to the uninterrupted run's weights", { timeout: 300_000 }, async () => {
  const whole = path.join(dir, "whole");
  const cut = path.join(dir, "cut");
  const args = [...TINY, "--steps", "400", "--eval-every", "400", "--checkpoint-every", "20"];
  const a = await lorascope("pretrain", ...args, "--out", whole);
  assert.equal(a.code, 0, a.stderr);
  // SIGKILL once the first checkpoint is on disk: no handler runs, the checkpoint is all that is left.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, path.resolve(import.meta.dirname, "../src/cli/main.ts"), "pretrain", ...args, "--out", cut], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  for (let i = 0; i < 6000 && !existsSync(path.join(cut, "checkpoint", "checkpoint.json")); i++) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGKILL");
  await exited;
  assert.ok(!existsSync(path.join(cut, "pretrain.json")), "killed before the end");
  const b = await lorascope("pretrain", "--resume", cut, "--json");
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /resuming .* at step \d+\/400/);
  assert.deepEqual(await readFile(path.join(cut, "model.safetensors")), await readFile(path.join(whole, "model.safetensors")));
});

test("Ctrl-C during pretraining is heard within a step: exit 130, one line saying what is kept", { timeout: 300_000 }, async () => {
  const out = path.join(dir, "interrupted");
  // Checkpoints by step are far apart, so no file is written (and no await reaches the event loop
  // through I/O) while it runs: only the loop's yield between steps lets the handler in.
  const args = [...TINY, "--steps", "100000", "--eval-every", "100000", "--checkpoint-every", "50000"];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, path.resolve(import.meta.dirname, "../src/cli/main.ts"), "pretrain", ...args, "--out", out], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  // Wait until it is stepping (the first metrics rows are on disk).
  const metrics = path.join(out, "metrics.jsonl");
  for (let i = 0; i < 6000 && !(existsSync(metrics) && (await readFile(metrics, "utf8")).split("\n").length > 20); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const t0 = performance.now();
  child.kill("SIGINT");
  const code = await exited;
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(code, 130, stderr);
  assert.ok(seconds < 10, `exited ${seconds.toFixed(1)} s after the signal`);
  assert.match(stderr, /interrupted \(SIGINT\); at step \d+\/100000; the last checkpoint in .* is kept: lorascope pretrain --resume /);
});

/** TINY with some flags' values replaced. */
function tinyWith(values: Record<string, string>): string[] {
  const args = [...TINY];
  for (const [flag, v] of Object.entries(values)) args[args.indexOf(`--${flag}`) + 1] = v;
  return args;
}

test("bad pretrain settings are one sentence, exit 2, nothing written", async () => {
  const cases: Array<[string[], RegExp]> = [
    [tinyWith({ width: "48", "head-dim": "32" }), /--width 48 is not a multiple of --head-dim 32/],
    [["--data", text, "--width", "32", "--head-dim", "16"], /needs held-out text too: give --valid FILE/],
    [tinyWith({ width: "4096", layers: "64", batch: "1024", "seq-len": "4096" }), /GiB of engine memory/],
    [["--resume", path.join(dir, "nothing-here")], /has no pretrain-config\.json; --resume needs the --out folder of a pretrain/],
    [["--resume", path.join(dir, "run"), "--width", "64"], /--resume takes every setting from .*; drop --width/],
  ];
  for (const [args, re] of cases) {
    const out = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await lorascope("pretrain", ...args, ...(args.includes("--resume") ? [] : ["--out", out]));
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!existsSync(out) || (await readdir(out)).length === 0, `${out} left behind`);
  }
});
