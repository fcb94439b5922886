// The USE-lite encoder's own contract: the checkpoint's names, shapes and pins; padding and batch
// composition never change a sentence's embedding; the linear hook sees every linear module under
// its PEFT path; no device buffer leaks. (Equality with the original graph: use-lite-reference.)
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { modulePaths } from "../src/core/tree.ts";
import { liveBuffers, read, refTree, trackAllocations, type Tensor } from "../src/engine/index.ts";
import type { Params } from "../src/core/tree.ts";
import * as linear from "../src/nn/linear.ts";
import { apply, embedBatch, loadUseLite } from "../src/models/use-lite/model.ts";
import { encode, makeTokenizer } from "../src/models/use-lite/tokenizer.ts";
import { loadUseLiteCheckpoint, loadUseLiteVocabulary, USE_LITE_PACKAGE } from "../src/models/use-lite/weights.ts";

const ckpt = loadUseLiteCheckpoint();

const LINEAR = [
  "layers.0.attention.q_proj",
  "layers.0.attention.k_proj",
  "layers.0.attention.v_proj",
  "layers.0.attention.o_proj",
  "layers.0.residual_proj",
  "layers.0.ffn.fc1",
  "layers.0.ffn.fc2",
  "layers.1.attention.q_proj",
  "layers.1.attention.k_proj",
  "layers.1.attention.v_proj",
  "layers.1.attention.o_proj",
  "layers.1.ffn.fc1",
  "layers.1.ffn.fc2",
  "pooler.dense",
];

test("the checkpoint has the published sizes, PyTorch layouts and graph constants", () => {
  let n = 0;
  for (const t of ckpt.params.values()) n += t.data.length;
  // 6,975,744 weights in all; the embedding table holds 8002 × 256 of them.
  assert.equal(n + ckpt.embedding.data.length, 6_975_744);
  assert.deepEqual(ckpt.params.get("layers.0.attention.o_proj.weight")?.shape, [512, 256]); // [out, in]
  assert.deepEqual(ckpt.params.get("layers.0.residual_proj.weight")?.shape, [512, 256]);
  assert.deepEqual(ckpt.params.get("layers.1.ffn.fc1.weight")?.shape, [1536, 512]);
  assert.equal(ckpt.params.has("layers.1.residual_proj.weight"), false);
  assert.deepEqual(ckpt.constants, {
    attentionScale: [0.125, Math.fround(128 ** -0.5)],
    layerNormEps: Math.fround(1e-6),
    paddingBias: -1e9,
    maxLength: 128,
    l2Eps: Math.fround(1e-12),
  });
});

test("a file that does not match its pin is a UserError naming the package", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "use-lite-"));
  writeFileSync(path.join(dir, "vocab.json"), "[]");
  assert.throws(
    () => loadUseLiteVocabulary(dir),
    (e: unknown) => e instanceof UserError && e.message.includes(USE_LITE_PACKAGE),
  );
  assert.throws(
    () => loadUseLiteCheckpoint(dir),
    (e: unknown) => e instanceof UserError && e.message.includes("cannot be read"),
  );
});

test("padding and batch order leave embeddings unchanged; the hook sees every linear module; no leaks", async () => {
  const m = await loadUseLite(ckpt);
  await trackAllocations();
  assert.deepEqual(modulePaths(m.params).filter((p) => !p.endsWith("_norm")), LINEAR);
  const tok = makeTokenizer(loadUseLiteVocabulary());
  const texts = ["Great food and friendly staff.", "Terrible.", "I would not recommend this phone to anyone at all."];
  const { ids } = encode(tok, texts);
  const before = liveBuffers();

  const y1 = apply(refTree(m.params), embedBatch(m.frozen, ids, 16), m.constants); // padded well past the longest
  const a = await read(y1);
  y1.dispose();
  const seen: string[] = [];
  const ctx = {
    path: "",
    linear: (p: Params, x: Tensor, at: string) => {
      seen.push(at);
      return linear.base(p, x, at);
    },
  };
  const order = [2, 0, 1];
  const y2 = apply(refTree(m.params), embedBatch(m.frozen, order.map((i) => ids[i] as number[])), m.constants, ctx);
  const b = await read(y2);
  y2.dispose();
  assert.equal(liveBuffers(), before, "apply leaks no device buffers");

  assert.deepEqual([...seen].sort(), [...LINEAR].sort());
  order.forEach((src, row) => {
    let norm = 0;
    for (let j = 0; j < 512; j++) {
      const u = a[src * 512 + j] as number;
      const v = b[row * 512 + j] as number;
      // float32 sums over different padded lengths round differently; 1e-5 is ~100 ulps of 0.05.
      assert.ok(Math.abs(u - v) < 1e-5, `sentence ${src}, component ${j}: ${u} vs ${v}`);
      norm += u * u;
    }
    assert.ok(Math.abs(norm - 1) < 1e-5, "embeddings have unit L2 norm");
  });
  // Different sentences give different embeddings (the check above is not vacuous).
  assert.ok(Math.abs((a[0] as number) - (a[512] as number)) + Math.abs((a[1] as number) - (a[513] as number)) > 1e-3);
});
