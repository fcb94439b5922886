// Hugging Face checkpoint folders: the by-offset safetensors reader against the whole-file one,
// malformed and truncated files, sharded indexes, and one sentence for every mismatch between the
// weights and config.json (missing, unexpected and mis-shaped tensors, unsupported model_type).
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { loadCausalLM, loadHfCheckpoint, openHfCheckpoint } from "../src/io/hf-checkpoint.ts";
import { openSafetensors } from "../src/io/safetensors-file.ts";
import { encodeSafetensors, readSafetensors, writeSafetensors, type WriteTensor } from "../src/io/safetensors.ts";
import { LM_FIXTURES } from "./support/lm-fixture.ts";

async function scratch(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "lorascope-hf-"));
}

const userError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
  assert.match(e.message, pattern);
  return true;
};

function ramp(n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * scale);
}

test("a file from the writer reads back tensor by tensor, as the whole-file reader reads it", async () => {
  const dir = await scratch();
  const file = path.join(dir, "m.safetensors");
  const tensors: Array<[string, WriteTensor]> = [
    ["a", { shape: [3, 5], data: ramp(15, 2) }],
    ["b.half", { shape: [7], data: ramp(7, 100), dtype: "F16" }],
    ["c.brain", { shape: [2, 2, 3], data: ramp(12, 0.01), dtype: "BF16" }],
    ["empty", { shape: [0, 4], data: new Float32Array(0) }],
  ];
  await writeSafetensors(file, tensors, { metadata: { format: "pt" } });
  const whole = await readSafetensors(file);
  const st = await openSafetensors(file);
  assert.deepEqual(st.metadata, { format: "pt" });
  assert.deepEqual([...st.entries.keys()].sort(), [...whole.tensors.keys()].sort());
  for (const [name, t] of whole.tensors) {
    const one = await st.read(name);
    assert.deepEqual(one, t, name);
    assert.deepEqual(await st.readF32(name), t.data, `${name} as float32`);
  }
  await assert.rejects(st.read("nope"), userError(/m\.safetensors has no tensor "nope"/));
  await st.close();
  await rm(dir, { recursive: true });
});

test("a file over 2 GiB (sparse: a 2.2 GB filler tensor, then a small one) is read by offset", async () => {
  const dir = await scratch();
  const file = path.join(dir, "big.safetensors");
  const FILLER = 2_200_000_000; // past 2^31 bytes, the largest Buffer readFile could return
  const header = new TextEncoder().encode(JSON.stringify({
    filler: { dtype: "U8", shape: [FILLER], data_offsets: [0, FILLER] },
    w: { dtype: "F32", shape: [3], data_offsets: [FILLER, FILLER + 12] },
  }));
  const head = new Uint8Array(8 + header.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
  head.set(header, 8);
  const w = Float32Array.of(1.5, -2, 3.25);
  const fh = await open(file, "w");
  await fh.write(head, 0, head.length, 0);
  await fh.write(new Uint8Array(w.buffer), 0, 12, head.length + FILLER); // the bytes between stay a hole
  await fh.close();
  const st = await openSafetensors(file);
  assert.deepEqual(await st.readF32("w"), w);
  await st.close();
  await rm(dir, { recursive: true });
});

test("truncated files and bad offsets give one sentence naming the file", async () => {
  const dir = await scratch();
  const file = path.join(dir, "t.safetensors");
  const bytes = encodeSafetensors([["w", { shape: [4, 4], data: ramp(16, 1) }]]);
  await writeFile(file, bytes.subarray(0, bytes.length - 3));
  await assert.rejects(openSafetensors(file), userError(/t\.safetensors is not a valid safetensors file: tensor "w" has data_offsets \[0, 64\] past the end of the 61-byte data section \(truncated\?\)/));
  await writeFile(file, bytes.subarray(0, 5));
  await assert.rejects(openSafetensors(file), userError(/t\.safetensors is not a valid safetensors file: it is 5 bytes long/));

  // Hand-made header: offsets that overlap.
  const header = new TextEncoder().encode(JSON.stringify({
    x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    y: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
  }));
  const bad = new Uint8Array(8 + header.length + 12);
  new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
  bad.set(header, 8);
  await writeFile(file, bad);
  await assert.rejects(openSafetensors(file), userError(/t\.safetensors is not a valid safetensors file: tensors "x" and "y" overlap at data offset 4/));

  // A file cut short after it was opened: the positioned read names it.
  await writeFile(file, bytes);
  const st = await openSafetensors(file);
  await truncate(file, bytes.length - 10);
  await assert.rejects(st.read("w"), userError(/t\.safetensors is not a valid safetensors file: it ended at byte/));
  await st.close();
  await assert.rejects(openSafetensors(path.join(dir, "absent.safetensors")), userError(/absent\.safetensors does not exist/));
  await rm(dir, { recursive: true });
});

test("a sharded folder reads as one checkpoint; BF16 weights come back as float32", async () => {
  const sharded = await loadHfCheckpoint(path.join(LM_FIXTURES, "llama-sharded"));
  const index = JSON.parse(await readFile(path.join(LM_FIXTURES, "llama-sharded", "model.safetensors.index.json"), "utf8")) as { weight_map: Record<string, string> };
  assert.deepEqual([...sharded.tensors.keys()].sort(), Object.keys(index.weight_map).sort());
  assert.ok(new Set(Object.values(index.weight_map)).size > 1, "the fixture has several shards");
  const bf16 = await loadHfCheckpoint(path.join(LM_FIXTURES, "llama-bf16"));
  const w = bf16.tensors.get("model.layers.0.self_attn.q_proj.weight");
  assert.ok(w !== undefined && w.data instanceof Float32Array);
  // Every value is a bfloat16: its low 16 bits are zero.
  const bits = new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length);
  assert.ok(bits.every((b) => (b & 0xffff) === 0));
});

async function copyFixture(name: string): Promise<string> {
  const dir = await scratch();
  await cp(path.join(LM_FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Rewrite a folder's model.safetensors through `edit` (a name → tensor map). */
async function editWeights(dir: string, edit: (m: Map<string, WriteTensor>) => void): Promise<void> {
  const file = path.join(dir, "model.safetensors");
  const { tensors } = await readSafetensors(file);
  const m = new Map<string, WriteTensor>();
  for (const [k, t] of tensors) m.set(k, { shape: t.shape, data: t.data as Float32Array });
  edit(m);
  await writeSafetensors(file, m);
}

test("missing, unexpected and mis-shaped tensors are named in one sentence", async () => {
  const dir = await copyFixture("llama-gqa-tied");
  await editWeights(dir, (m) => {
    m.delete("model.layers.1.mlp.up_proj.weight");
    m.set("model.layers.0.self_attn.extra.weight", { shape: [2], data: new Float32Array(2) });
    m.set("model.layers.0.self_attn.k_proj.weight", { shape: [32, 32], data: new Float32Array(32 * 32) });
  });
  await assert.rejects(
    loadCausalLM(dir),
    userError(/^the checkpoint in .* does not match its llama config\.json \(missing model\.layers\.1\.mlp\.up_proj\.weight; unexpected model\.layers\.0\.self_attn\.extra\.weight; wrong shape: model\.layers\.0\.self_attn\.k_proj\.weight is \[32, 32\], expected \[16, 32\]\); check that the weights and config\.json belong together$/),
  );
  await rm(dir, { recursive: true });
});

test("a tied checkpoint that also saved lm_head and old rotary buffers still loads", async () => {
  const dir = await copyFixture("llama-gqa-tied");
  await editWeights(dir, (m) => {
    m.set("lm_head.weight", { shape: [64, 32], data: new Float32Array(64 * 32) });
    m.set("model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [4], data: new Float32Array(4) });
  });
  const { config } = await loadCausalLM(dir);
  assert.equal(config.modelType, "llama");
  await rm(dir, { recursive: true });
});

test("an unsupported model_type, a missing config and missing weights are one sentence each", async () => {
  const dir = await copyFixture("llama-gqa-tied");
  const cfgFile = path.join(dir, "config.json");
  const cfg = JSON.parse(await readFile(cfgFile, "utf8")) as Record<string, unknown>;
  await writeFile(cfgFile, JSON.stringify({ ...cfg, model_type: "bert" }));
  await assert.rejects(loadCausalLM(dir), userError(/config\.json has model_type "bert", which lorascope does not implement; supported: "llama", "gpt2"$/));
  await rm(cfgFile);
  await assert.rejects(loadCausalLM(dir), userError(/config\.json does not exist$/));
  await writeFile(cfgFile, JSON.stringify(cfg));
  await rm(path.join(dir, "model.safetensors"));
  await assert.rejects(loadCausalLM(dir), userError(/has neither model\.safetensors nor model\.safetensors\.index\.json/));
  await rm(dir, { recursive: true });
});

test("a shard index that points outside the folder or at the wrong shard is refused", async () => {
  const dir = await copyFixture("llama-sharded");
  const indexFile = path.join(dir, "model.safetensors.index.json");
  const index = JSON.parse(await readFile(indexFile, "utf8")) as { weight_map: Record<string, string> };
  const shards = [...new Set(Object.values(index.weight_map))].sort();
  await writeFile(indexFile, JSON.stringify({ weight_map: { ...index.weight_map, "model.norm.weight": "../x.safetensors" } }));
  await assert.rejects(openHfCheckpoint(dir), userError(/maps tensor "model\.norm\.weight" to "\.\.\/x\.safetensors", not a file name in the same folder/));
  const wrong = shards.find((s) => s !== index.weight_map["model.norm.weight"]) as string;
  await writeFile(indexFile, JSON.stringify({ weight_map: { ...index.weight_map, "model.norm.weight": wrong } }));
  await assert.rejects(openHfCheckpoint(dir), userError(/says tensor "model\.norm\.weight" is in model-0000\d-of-00005\.safetensors, but that file does not hold it/));
  await rm(dir, { recursive: true });
});
