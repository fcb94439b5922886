// `lorascope sweep --model stories260K`, run as users run it: a 2-lr × 2-init × 1-seed grid of tiny
// finetunes (a worker process, the texts tokenized once into OUT/token-cache), its --json document,
// rows with the per-module dynamics, summary.md and config.json; a rerun from config.json that skips
// every finished run (rows byte-for-byte unchanged, nothing tokenized or trained again); a YAML
// config naming the model that widens the grid, with a damaged row set aside and redone and a
// collapsed run kept as an outcome; and the usage errors, one sentence each, nothing written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope } from "./support/cli.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-lm-sweep-"));
const text = path.join(dir, "story.txt");
await writeFile(text, "Once upon a time, there was a little dog named Max. He liked to run in the sun.\n".repeat(4));
const out = path.join(dir, "sweep");
const GRID = ["--model", "stories260K", "--data", text, "--valid", text, "--steps", "3", "--batch", "2", "--seq-len", "16"];

interface Row {
  init: string;
  lr: number;
  seed: number;
  diverged: boolean;
  collapsed: boolean;
  validation: { loss: number; perplexity: number } | null;
  validationBefore: { perplexity: number } | null;
  dynamics: Array<{ step: number }>;
  moduleDynamics: Array<{ step: number; module: string }>;
}

const rowFiles = async (): Promise<Map<string, string>> => {
  const names = (await readdir(path.join(out, "runs"))).filter((f) => f.endsWith(".json")).sort();
  return new Map(await Promise.all(names.map(async (f) => [f, await readFile(path.join(out, "runs", f), "utf8")] as const)));
};

test("sweep --model stories260K: rows, --json, summary.md, config.json; a rerun skips every finished run", { timeout: 300_000 }, async () => {
  const first = await lorascope(
    "sweep", ...GRID, "--lrs", "5e-3,1e-3", "--inits", "init-a,init-b", "--seeds", "1", "--dynamics-every", "2", "-j", "1", "-o", out, "--json",
  );
  assert.equal(first.code, 0, first.stderr);
  type Summary = Record<string, unknown> & { runs: number; optimalLr: Record<string, number> };
  const summary = JSON.parse(first.stdout) as Summary;
  const keys = ["optimalLr", "best", "differences", "diverged", "collapsed", "runs", "speed", "paper", "paperSplit", "grid", "deltaShares"];
  assert.deepEqual(Object.keys(summary), keys);
  assert.equal(summary.runs, 4);
  assert.deepEqual(Object.keys(summary.optimalLr), ["init-a", "init-b"]);
  assert.equal(summary["paperSplit"], "validation", "a text file has no test split");
  assert.match(first.stderr, /tokenized .*story\.txt \(train\), .*story\.txt \(validation\)/);
  assert.match(first.stderr, /4 runs \(0 already done\)/);

  const rows = await rowFiles();
  assert.deepEqual([...rows.keys()], ["init-a-lr0.001-seed0.json", "init-a-lr0.005-seed0.json", "init-b-lr0.001-seed0.json", "init-b-lr0.005-seed0.json"]);
  for (const [name, line] of rows) {
    const r = JSON.parse(line) as Row;
    assert.equal(r.diverged, false, name);
    assert.ok(r.validation !== null && r.validationBefore !== null && Number.isFinite(r.validation.perplexity), name);
    assert.deepEqual(r.dynamics.map((d) => d.step), [0, 2, 3], name);
    // stories260K has 5 layers; the default target modules are q_proj and v_proj: 10 modules per measurement.
    assert.equal(r.moduleDynamics.filter((d) => d.step === 3).length, 10, name);
    assert.ok(r.moduleDynamics.every((d) => /^model\.layers\.\d\.self_attn\.[qv]_proj$/.test(d.module)), name);
  }
  // The runs share one base model and data: init-a starts as the base model, so its "before" is the base loss.
  const before = [...rows.values()].map((l) => (JSON.parse(l) as Row).validationBefore?.perplexity);
  assert.equal(new Set(before).size, 1, "every run measured the same base model on the same text");
  assert.ok((await readdir(path.join(out, "token-cache"))).some((f) => f.endsWith(".i32")));
  const md = await readFile(path.join(out, "summary.md"), "utf8");
  assert.ok(first.stderr.includes(md), "the table on stderr is summary.md");
  const settings = JSON.parse(await readFile(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(settings["model"], "stories260K");
  assert.deepEqual(settings["lrs"], [5e-3, 1e-3], "as given");
  assert.equal(settings["out"], undefined, "where output goes is not a setting");

  const again = await lorascope("sweep", "--config", path.join(out, "config.json"), "-o", out, "-j", "0", "--json");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /4 runs \(4 already done\)/);
  assert.doesNotMatch(again.stderr, /tokenized/, "nothing left to run: nothing tokenized");
  assert.deepEqual(await rowFiles(), rows, "finished rows are not rewritten");
  assert.deepEqual(JSON.parse(again.stdout), summary);
});

test("a YAML --config naming the model runs the LM form; a damaged row is redone, a collapsed run is a row", { timeout: 300_000 }, async () => {
  assert.ok(existsSync(path.join(out, "runs")), "runs after the first test");
  const damaged = path.join(out, "runs", "init-b-lr0.005-seed0.json");
  await writeFile(damaged, '{"init": "init-b", "lr": 0.0');
  const yaml = path.join(dir, "wider.yaml");
  // The same settings as the first sweep with one more lr (30: far too large, the run collapses).
  await writeFile(yaml, [
    "model: stories260K", `data: ${text}`, `valid: ${text}`, "steps: 3", "batch: 2", "seq-len: 16", "dynamics-every: 2",
    "lrs: [1.0e-3, 5.0e-3, 30]", "inits: [init-a, init-b]", "seeds: 1", "",
  ].join("\n"));
  const r = await lorascope("sweep", "--config", yaml, "-o", out, "-j", "0", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /init-b-lr0\.005-seed0\.json is damaged .*set aside/);
  assert.match(r.stderr, /6 runs \(3 already done\)/);
  assert.ok(existsSync(`${damaged}.damaged`));
  const s = JSON.parse(r.stdout) as { runs: number; collapsed: number; grid: Array<{ lr: number; collapsed: number }> };
  assert.equal(s.runs, 6);
  assert.deepEqual(s.grid.filter((c) => c.lr === 30).map((c) => c.collapsed), [1, 1], "lr 30 collapses under both inits");
  const redone = JSON.parse(await readFile(damaged, "utf8")) as Row;
  assert.equal(redone.lr, 5e-3);
});

test("sweep --model: one sentence per usage error, exit 2, nothing written", { timeout: 120_000 }, async () => {
  const bad = path.join(dir, "bad");
  const cases: Array<[string[], RegExp]> = [
    [["--model", "stories260K", "--data", text, "--lrs", "1e-3,1e-3"], /--lrs lists 0\.001 more than once|more than once/],
    [["--model", "stories260K", "--data", text, "--lrs", "1e-3", "--seq-len", "513"], /--seq-len 513 is more than stories260K's 512 positions/],
    [["--model", path.join(dir, "no-such-model"), "--data", text, "--lrs", "1e-3"], /--model .*no-such-model is neither "stories260K" .*nor an existing folder/],
    [["--model", "stories260K", "--data", text], /give --lrs/],
  ];
  const runs = await Promise.all(cases.map(([args]) => lorascope("sweep", ...args, "-o", bad)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, (cases[i] as [string[], RegExp])[1]);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
  assert.equal(existsSync(bad), false);
  // finetune and evaluate read the model from a YAML --config too: only the LM form knows --seq-len's limit.
  const yaml = path.join(dir, "lm.yaml");
  await writeFile(yaml, `model: stories260K\ndata: ${text}\nseq-len: 513\n`);
  const ft = await lorascope("finetune", "--config", yaml, "--lr", "1e-3");
  assert.equal(ft.code, 2, ft.stderr);
  assert.match(ft.stderr, /--seq-len 513 is more than stories260K's 512 positions/);
});
