// `lorascope inspect`, run as a subprocess from the sources, on an adapter lorascope wrote and
// on PEFT-layout adapters written by another tool (scripts/fixtures/make_peft_adapters.py, PyTorch)
// in F32, F16 and BF16. The commands run concurrently in `before` to keep this file fast.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope, type CliRun } from "./support/cli.ts";
import { disposeTree, initEngine, tensor } from "../src/engine/index.ts";
import type { Params } from "../src/core/tree.ts";
import { loraConfig } from "../src/lora/config.ts";
import { saveAdapter } from "../src/io/peft.ts";
import expected from "./fixtures/peft-adapters/expected.json" with { type: "json" };

const FIXTURES = path.join("test", "fixtures", "peft-adapters");
const KINDS = ["f32", "f16", "bf16"] as const;

/** `lorascope inspect …` */
const inspect = (...args: string[]) => lorascope("inspect", ...args);

interface Summary {
  name: string;
  A: number[];
  B: number[];
  normA: number;
  normB: number;
  normDelta: number;
  deltaIsZero: boolean;
}

// Lorascope's own adapter: q_proj generic, v_proj with B = 0 (Init[A] at step 0), k_proj with two
// non-zero factors whose product cancels (B's columns are opposite, A's rows equal).
const A_Q = [0.3, -1.2, 0.5, 2.0, 0.1, -0.7];
const B_Q = [1.0, 0.2, -0.4, 0.9, 0.6, -1.5, 0.05, 0.3];
const A_K = [0.1, 0.3, 0.7, 0.1, 0.3, 0.7];
const B_K = [0.2, -0.2, 1.1, -1.1, -0.3, 0.3, 0.9, -0.9];
const S = 2; // lora_alpha 4 / r 2

/** ‖s·B·A‖_F with B·A formed explicitly in float64 (the CLI uses the r×r Gram identity instead). */
function deltaNorm(A: number[], B: number[], out: number, r: number, nIn: number): number {
  let sum = 0;
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < nIn; i++) {
      let v = 0;
      for (let k = 0; k < r; k++) v += (B[o * r + k] as number) * (A[k * nIn + i] as number);
      sum += (S * v) ** 2;
    }
  }
  return Math.sqrt(sum);
}

const runs = new Map<string, CliRun>();
let ownDir = "";

before(async () => {
  await initEngine();
  const tmp = await mkdtemp(path.join(tmpdir(), "lorascope-inspect-"));
  ownDir = path.join(tmp, "own");
  const lin = (a: number[], b: number[]): Params => ({
    weight: tensor(new Float32Array(12), [4, 3]),
    lora_A: { weight: tensor(a, [2, 3]) },
    lora_B: { weight: tensor(b, [4, 2]) },
  });
  const params: Params = {
    blocks: { 0: { q_proj: lin(A_Q, B_Q), v_proj: lin(A_Q, new Array<number>(8).fill(0)), k_proj: lin(A_K, B_K) } },
  };
  await saveAdapter(
    ownDir,
    params,
    loraConfig({ r: 2, lora_alpha: 4, target_modules: ["q_proj", "v_proj", "k_proj"], init_lora_weights: "init-b" }),
  );
  disposeTree(params);

  // Broken inputs: a directory with no config, a truncated weights file, a corrupt config.
  const noConfig = path.join(tmp, "no-config");
  await mkdir(noConfig);
  await copyFile(
    path.join(FIXTURES, "f32", "adapter_model.safetensors"),
    path.join(noConfig, "adapter_model.safetensors"),
  );
  const truncated = path.join(tmp, "truncated");
  await mkdir(truncated);
  await copyFile(path.join(FIXTURES, "f32", "adapter_config.json"), path.join(truncated, "adapter_config.json"));
  const bytes = await readFile(path.join(FIXTURES, "f32", "adapter_model.safetensors"));
  await writeFile(path.join(truncated, "adapter_model.safetensors"), bytes.subarray(0, bytes.length - 10));
  const corrupt = path.join(tmp, "corrupt");
  await mkdir(corrupt);
  await copyFile(
    path.join(FIXTURES, "f32", "adapter_model.safetensors"),
    path.join(corrupt, "adapter_model.safetensors"),
  );
  await writeFile(path.join(corrupt, "adapter_config.json"), '{"peft_type": "LORA", "r": ');

  const jobs: Array<[string, string[]]> = [
    ...KINDS.map((k): [string, string[]] => [k, [path.join(FIXTURES, k), "--json"]]),
    ["own-json", [ownDir, "--json"]],
    ["own-text", [ownDir]],
    ["missing-dir", [path.join(tmp, "does-not-exist")]],
    ["no-config", [noConfig]],
    ["truncated", [truncated, "--json"]],
    ["corrupt", [corrupt]],
  ];
  const results = await Promise.all(jobs.map(([, args]) => inspect(...args)));
  jobs.forEach(([name], i) => runs.set(name, results[i] as CliRun));
});

function json(name: string): { config: Record<string, unknown>; scaling: number; modules: Summary[] } {
  const run = runs.get(name) as CliRun;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split("\n").length, 1, "exactly one JSON object on one line");
  return JSON.parse(run.stdout) as { config: Record<string, unknown>; scaling: number; modules: Summary[] };
}

const close = (a: number, b: number, what: string): void =>
  // The Gram identity and the explicit product agree to float64 round-off.
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

for (const kind of KINDS) {
  test(`inspect --json on a PEFT-layout ${kind.toUpperCase()} adapter written by PyTorch`, () => {
    const out = json(kind);
    const want = expected[kind];
    assert.equal(out.config["peft_type"], "LORA");
    assert.equal(out.config["r"], 4);
    close(out.scaling, want.scaling, "scaling");
    assert.equal(out.modules.length, want.modules.length);
    for (const w of want.modules) {
      const m = out.modules.find((x) => x.name === w.name);
      assert.ok(m !== undefined, `module ${w.name} listed`);
      assert.deepEqual([m.A, m.B], [w.A, w.B]);
      close(m.normA, w.normA, `${w.name} normA`);
      close(m.normB, w.normB, `${w.name} normB`);
      close(m.normDelta, w.normDelta, `${w.name} normDelta`);
      assert.equal(m.deltaIsZero, w.deltaIsZero, `${w.name} deltaIsZero`);
    }
  });
}

test("inspect --json on an adapter lorascope wrote: norms, and which products are zero", () => {
  const out = json("own-json");
  assert.deepEqual(out.config["lorascope"], { init: "init-b" });
  const by = new Map(out.modules.map((m) => [m.name, m]));
  assert.deepEqual([...by.keys()].sort(), ["blocks.0.k_proj", "blocks.0.q_proj", "blocks.0.v_proj"]);
  const q = by.get("blocks.0.q_proj") as Summary;
  assert.deepEqual([q.A, q.B], [[2, 3], [4, 2]]);
  close(q.normA, Math.hypot(...Float32Array.from(A_Q)), "normA");
  close(q.normB, Math.hypot(...Float32Array.from(B_Q)), "normB");
  close(q.normDelta, deltaNorm([...Float32Array.from(A_Q)], [...Float32Array.from(B_Q)], 4, 2, 3), "normDelta");
  assert.equal(q.deltaIsZero, false);
  assert.equal(by.get("blocks.0.v_proj")?.normDelta, 0);
  assert.equal(by.get("blocks.0.v_proj")?.deltaIsZero, true);
  const k = by.get("blocks.0.k_proj") as Summary;
  assert.ok(k.normA > 0.5 && k.normB > 1, "both factors of k_proj are non-zero");
  assert.equal(k.deltaIsZero, true, "yet their product cancels");
});

test("inspect prints a readable table without --json", () => {
  const run = runs.get("own-text") as CliRun;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /r = 2, lora_alpha = 4, use_rslora = false, scaling s = 2/);
  assert.match(run.stdout, /init: init-b/);
  assert.match(run.stdout, /blocks\.0\.v_proj\s+\[2, 3\]\s+\[4, 2\]\s+\S+\s+0\s+0\s+zero/);
  assert.match(run.stdout, /blocks\.0\.q_proj\s+\[2, 3\]\s+\[4, 2\].*nonzero/);
});

const failures: Array<[string, RegExp]> = [
  ["missing-dir", /does-not-exist does not exist/],
  ["no-config", /has no adapter_config\.json/],
  [
    "truncated",
    /adapter_model\.safetensors is not a valid safetensors file: .*past the end of the \d+-byte data section/,
  ],
  ["corrupt", /adapter_config\.json is not valid JSON/],
];
for (const [name, message] of failures) {
  test(`bad input (${name}) gives one sentence on stderr, a non-zero exit and no stack trace`, () => {
    const run = runs.get(name) as CliRun;
    assert.notEqual(run.code, 0);
    assert.equal(run.stdout, "");
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] as string, /^lorascope inspect: /);
    assert.match(lines[0] as string, message);
    assert.doesNotMatch(run.stderr, /\n\s+at |internal error/);
  });
}
