// PEFT adapter directories: key names, config fields, init mapping, round trips through the engine,
// and shape checks that name the offending key.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  initEngine,
  read,
  tensor,
  trackAllocations,
  liveBuffers,
  disposeTree,
  type Tensor,
} from "../src/engine/index.ts";
import { UserError } from "../src/core/errors.ts";
import { getPath, isTensor, type Params } from "../src/core/tree.ts";
import { loraConfig, INIT_SCHEMES, type LoraConfig } from "../src/lora/config.ts";
import { applyAdapter, loadAdapter, saveAdapter } from "../src/io/peft.ts";
import { parsePeftConfig } from "../src/io/peft-config.ts";
import { readSafetensors } from "../src/io/safetensors.ts";

before(async () => {
  await initEngine();
  await trackAllocations();
});

const R = 2;
const seq = (n: number, start: number): number[] => Array.from({ length: n }, (_, i) => start + 0.25 * i);

/** Two LoRA-wrapped linears (in 3 → out 4) and a plain head (3 → 2) with a bias. */
function model(offset = 0, rank = R): Params {
  const lin = (s: number): Params => ({
    weight: tensor(seq(12, s), [4, 3]),
    lora_A: { weight: tensor(seq(rank * 3, s + 1 + offset), [rank, 3]) },
    lora_B: { weight: tensor(seq(4 * rank, s - 2 + offset), [4, rank]) },
  });
  return {
    layers: { 0: { q_proj: lin(0), v_proj: lin(10) } },
    head: { weight: tensor(seq(6, 5 + offset), [2, 3]), bias: tensor([0.5 + offset, -1], [2]) },
  };
}

const cfg = (over: Partial<LoraConfig> = {}): LoraConfig =>
  loraConfig({ r: R, lora_alpha: 4, target_modules: ["q_proj", "v_proj"], modules_to_save: ["head"], ...over });

function leaf(p: Params, at: string): Tensor {
  const t = getPath(p, at);
  assert.ok(t !== undefined && isTensor(t), `no tensor at ${at}`);
  return t;
}

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "lorascope-peft-"));
}

test("saveAdapter writes PEFT's keys, shapes, metadata and config fields", async () => {
  const dir = path.join(await tmp(), "nested", "adapter");
  const p = model();
  await saveAdapter(dir, p, cfg({ init_lora_weights: "init-b", init_std: 0.02, use_rslora: true }), {
    base_model_name_or_path: "toy-mlp",
    task_type: "SEQ_CLS",
  });
  const { tensors, metadata } = await readSafetensors(path.join(dir, "adapter_model.safetensors"));
  assert.deepEqual(metadata, { format: "pt" });
  const shapes = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.dtype, ...t.shape]]));
  assert.deepEqual(shapes, {
    "base_model.model.head.bias": ["F32", 2],
    "base_model.model.head.weight": ["F32", 2, 3],
    "base_model.model.layers.0.q_proj.lora_A.weight": ["F32", R, 3],
    "base_model.model.layers.0.q_proj.lora_B.weight": ["F32", 4, R],
    "base_model.model.layers.0.v_proj.lora_A.weight": ["F32", R, 3],
    "base_model.model.layers.0.v_proj.lora_B.weight": ["F32", 4, R],
  });
  assert.deepEqual([...(tensors.get("base_model.model.layers.0.v_proj.lora_B.weight")?.data ?? [])], seq(4 * R, 8));
  const json = JSON.parse(await readFile(path.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(json["peft_type"], "LORA");
  assert.equal(json["r"], R);
  assert.equal(json["lora_alpha"], 4);
  assert.deepEqual(json["target_modules"], ["q_proj", "v_proj"]);
  assert.equal(json["use_rslora"], true);
  assert.equal(json["init_lora_weights"], true, "init-b is written as PEFT's true (PEFT has no Init[B])");
  assert.deepEqual(json["lorascope"], { init: "init-b", init_std: 0.02 });
  assert.equal(json["lora_dropout"], 0);
  assert.equal(json["bias"], "none");
  assert.deepEqual(json["modules_to_save"], ["head"]);
  assert.equal(json["base_model_name_or_path"], "toy-mlp");
  assert.equal(json["task_type"], "SEQ_CLS");
  assert.equal(json["inference_mode"], true);
  assert.equal(json["use_dora"], false);
  assert.equal(json["fan_in_fan_out"], false);
  assert.deepEqual(json["rank_pattern"], {});
  disposeTree(p);
});

test("each init scheme maps to a value PEFT accepts, and a reload restores the exact scheme", async () => {
  const expected: Record<string, unknown> = {
    "init-a": true,
    "init-b": true,
    gaussian: "gaussian",
    "gaussian-b": true,
    orthogonal: "orthogonal",
    none: false,
    pissa: "pissa",
  };
  const dir = await tmp();
  const p = model();
  for (const scheme of INIT_SCHEMES) {
    await saveAdapter(dir, p, cfg({ init_lora_weights: scheme, modules_to_save: [] }));
    const json = JSON.parse(await readFile(path.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(json["init_lora_weights"], expected[scheme], scheme);
    assert.equal(json["modules_to_save"], null);
    assert.equal((await loadAdapter(dir)).config.init_lora_weights, scheme);
  }
  disposeTree(p);
});

test("F16 and BF16 storage: dtype in the file, values within half a unit in the last place", async () => {
  const dir = await tmp();
  const p = model();
  for (const [dtype, relTol] of [["F16", 2 ** -11], ["BF16", 2 ** -8]] as const) {
    await saveAdapter(dir, p, cfg(), { dtype });
    const loaded = await loadAdapter(dir);
    const A = loaded.modules.get("layers.0.q_proj")?.A;
    assert.equal(A?.dtype, dtype);
    const want = seq(R * 3, 1);
    A?.data.forEach((v, i) =>
      assert.ok(Math.abs(v - (want[i] as number)) <= relTol * Math.abs(want[i] as number), `${dtype} ${i}`),
    );
    assert.equal(loaded.saved.get("head.bias")?.dtype, dtype);
  }
  disposeTree(p);
});

test("save → load → apply restores every tensor exactly and consumes nothing extra", async () => {
  const dir = await tmp();
  const src = model();
  const config = cfg({ init_lora_weights: "gaussian-b", init_std: 0.5 });
  await saveAdapter(dir, src, config);
  const loaded = await loadAdapter(dir);
  assert.deepEqual(loaded.config, config);
  assert.deepEqual([...loaded.modules.keys()].sort(), ["layers.0.q_proj", "layers.0.v_proj"]);
  const base = liveBuffers();
  const other = model(100); // same shapes, different values
  const applied = applyAdapter(other, loaded);
  assert.equal(liveBuffers(), base + 8, "the 8 tensors of `other`: the 6 replaced ones were disposed");
  for (const at of ["layers.0.q_proj.lora_A.weight", "layers.0.v_proj.lora_B.weight", "head.weight"]) {
    assert.deepEqual(await read(leaf(applied, at)), await read(leaf(src, at)), at);
  }
  assert.deepEqual(await read(leaf(applied, "head.bias")), Float32Array.of(0.5, -1));
  // the base weight is not part of the adapter: it keeps the target model's value
  assert.deepEqual([...(await read(leaf(applied, "layers.0.v_proj.weight")))], seq(12, 10));
  disposeTree(applied);
  disposeTree(src);
});

test("applyAdapter names the key whose shape differs, and the module path the model lacks", async () => {
  const dir = await tmp();
  const src = model();
  await saveAdapter(dir, src, cfg());
  disposeTree(src);
  const loaded = await loadAdapter(dir);
  const wrongRank = model(0, 3);
  assert.throws(
    () => applyAdapter(wrongRank, loaded),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        'adapter key "base_model.model.layers.0.q_proj.lora_A.weight" has shape [2, 3] but the model\'s tensor is [3, 3]',
  );
  disposeTree(wrongRank);
  const missing = model();
  delete (missing["layers"] as Params)["0"];
  assert.throws(
    () => applyAdapter(missing, loaded),
    (e: unknown) =>
      e instanceof UserError && /refers to module "layers\.0\.q_proj", which the model does not have/.test(e.message),
  );
  disposeTree(missing);
  const untargeted = model();
  const q = ((untargeted["layers"] as Params)["0"] as Params)["q_proj"] as Params;
  disposeTree(q["lora_A"] as Params);
  disposeTree(q["lora_B"] as Params);
  delete q["lora_A"];
  delete q["lora_B"];
  assert.throws(
    () => applyAdapter(untargeted, loaded),
    (e: unknown) =>
      e instanceof UserError &&
      /"base_model\.model\.layers\.0\.q_proj\.lora_A\.weight" has no tensor at/.test(e.message),
  );
  disposeTree(untargeted);
});

test("loadAdapter: missing files and unsupported contents are one clear UserError", async () => {
  const dir = await tmp();
  const userError = (re: RegExp) => (e: unknown) =>
    e instanceof UserError && re.test(e.message) && !e.message.includes("\n");
  await assert.rejects(loadAdapter(path.join(dir, "nope")), userError(/nope does not exist/));
  await assert.rejects(loadAdapter(dir), userError(/has no adapter_config\.json/));
  await writeFile(path.join(dir, "adapter_config.json"), '{"peft_type": "LORA", "target_modules": ["q"]}');
  await assert.rejects(loadAdapter(dir), userError(/has no adapter_model\.safetensors/));
  await writeFile(path.join(dir, "adapter_model.bin"), "pickle");
  await assert.rejects(loadAdapter(dir), userError(/adapter_model\.bin \(a PyTorch pickle\)/));
  await rm(path.join(dir, "adapter_model.bin"));
  const p = model();
  await saveAdapter(dir, p, cfg());
  disposeTree(p);
  await writeFile(path.join(dir, "adapter_config.json"), '{"peft_type": "LORA", "r": 3}');
  await assert.rejects(
    loadAdapter(dir),
    userError(/lora_A\.weight" has shape \[2, 3\]; with r = 3 it must be \[3, in\]/),
  );
  await writeFile(path.join(dir, "adapter_config.json"), "{oops");
  await assert.rejects(loadAdapter(dir), userError(/adapter_config\.json is not valid JSON/));
});

test("parsePeftConfig accepts configs as PEFT writes them", () => {
  const parse = (raw: Record<string, unknown>) =>
    parsePeftConfig({ peft_type: "LORA", ...raw }, "c.json", ["m.q"]).config;
  assert.equal(parse({ init_lora_weights: true }).init_lora_weights, "init-a");
  assert.equal(parse({ init_lora_weights: false }).init_lora_weights, "none");
  assert.equal(parse({ init_lora_weights: "gaussian" }).init_lora_weights, "gaussian");
  assert.equal(parse({ init_lora_weights: "pissa_niter_4" }).init_lora_weights, "pissa");
  assert.equal(parse({ init_lora_weights: "olora" }).init_lora_weights, "none");
  const minimal = parse({});
  assert.deepEqual(
    {
      r: minimal.r,
      a: minimal.lora_alpha,
      d: minimal.lora_dropout,
      t: minimal.target_modules,
      m: minimal.modules_to_save,
    },
    { r: 8, a: 8, d: 0, t: ["m.q"], m: [] },
    "PEFT's defaults; a null target_modules falls back to the modules in the file",
  );
  assert.equal(parse({ target_modules: ".*\\.q" }).target_modules, ".*\\.q");
  assert.deepEqual(parse({ modules_to_save: null, r: 16, lora_alpha: 32 }).modules_to_save, []);
  const bad = (raw: Record<string, unknown>, re: RegExp): void =>
    assert.throws(
      () => parsePeftConfig(raw, "c.json", []),
      (e: unknown) => e instanceof UserError && re.test(e.message),
    );
  bad({ peft_type: "IA3" }, /^c\.json has peft_type "IA3"; lorascope reads LoRA adapters/);
  bad({ peft_type: "LORA", rank_pattern: { q: 4 } }, /sets rank_pattern/);
  bad({ peft_type: "LORA", use_dora: true }, /DoRA/);
  bad({ peft_type: "LORA", r: 0 }, /^c\.json: r must be a positive integer/);
  bad({ peft_type: "LORA", lorascope: { init: "init-c" } }, /lorascope\.init must be one of/);
});

test("saveAdapter rejects a modules_to_save entry that matches nothing or names a LoRA module", async () => {
  const dir = await tmp();
  const p = model();
  const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  await assert.rejects(
    saveAdapter(dir, p, cfg({ modules_to_save: ["classifier"] })),
    userError(/"classifier" matches no module/),
  );
  await assert.rejects(
    saveAdapter(dir, p, cfg({ modules_to_save: ["q_proj"] })),
    userError(/selects "layers\.0\.q_proj", which is a LoRA module/),
  );
  disposeTree(p);
});
