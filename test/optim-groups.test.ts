// LoRA+ grouping (each of PEFT's rules, and each rule replaced) and parameter groups that really
// apply different learning rates. The trajectories against torch param_groups are in
// optim-torch.test.ts (adam_groups, loraplus_adamw).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initEngine, read, tensor, disposeTree, zeros } from "../src/engine/index.ts";
import { flatten, unflatten, type Params } from "../src/core/tree.ts";
import { UserError } from "../src/core/errors.ts";
import {
  applyUpdates,
  chain,
  clipByGlobalNorm,
  isLayerNormPath,
  loraPlus,
  loraPlusLabel,
  multiTransform,
  paramGroups,
  sgd,
  type SgdOptions,
} from "../src/optim/index.ts";

before(async () => {
  await initEngine();
});

/** A tree with one of each kind LoRA+ distinguishes. */
function loraTree(): Params {
  return unflatten([
    ["layers.0.q_proj.lora_A.weight", zeros([2, 4])],
    ["layers.0.q_proj.lora_B.weight", zeros([3, 2])],
    ["layers.0.q_proj.bias", zeros([3])],
    ["layers.0.LayerNorm.weight", zeros([3])],
    ["embed_tokens.lora_embedding_A", zeros([2, 5])],
    ["embed_tokens.lora_embedding_B", zeros([6, 2])],
    ["classifier.weight", zeros([3, 3])],
    ["layers.0.dora.magnitude", zeros([3])],
  ]);
}

function labels(p: Params, label: (path: string, t: ReturnType<typeof zeros>) => string): Record<string, string> {
  return Object.fromEntries(flatten(p).map(([path, t]) => [path, label(path, t)]));
}

test("LoRA+ default rules reproduce PEFT's create_loraplus_optimizer groups", () => {
  const p = loraTree();
  assert.deepEqual(labels(p, loraPlusLabel()), {
    "layers.0.q_proj.lora_A.weight": "groupA",
    "layers.0.q_proj.lora_B.weight": "groupB",
    "layers.0.q_proj.bias": "groupB_no_decay", // 1-D and a bias
    "layers.0.LayerNorm.weight": "groupB_no_decay", // 1-D inside a LayerNorm
    "embed_tokens.lora_embedding_A": "embedding",
    "embed_tokens.lora_embedding_B": "embedding", // embedding is tested before lora_B
    "classifier.weight": "groupA", // trainable 2-D non-LoRA weight
    "layers.0.dora.magnitude": "groupB", // 1-D, neither bias nor norm: B rate with decay
  });
  disposeTree(p);
});

test("each LoRA+ rule can be replaced", () => {
  const p = loraTree();
  const noOneDim = labels(p, loraPlusLabel({ oneDimIsB: false }));
  assert.equal(noOneDim["layers.0.q_proj.bias"], "groupA");
  assert.equal(noOneDim["layers.0.LayerNorm.weight"], "groupA");
  assert.equal(noOneDim["layers.0.q_proj.lora_B.weight"], "groupB");

  const noEmbedding = labels(p, loraPlusLabel({ isEmbedding: () => false }));
  assert.equal(noEmbedding["embed_tokens.lora_embedding_A"], "groupA");
  assert.equal(noEmbedding["embed_tokens.lora_embedding_B"], "groupA"); // "lora_embedding_B" does not contain "lora_B"

  const bByName = labels(p, loraPlusLabel({ isLoraB: (path) => path.includes("classifier") }));
  assert.equal(bByName["classifier.weight"], "groupB");
  assert.equal(bByName["layers.0.q_proj.lora_B.weight"], "groupA");

  const decayAll = labels(p, loraPlusLabel({ isNoDecay: () => false }));
  assert.equal(decayAll["layers.0.q_proj.bias"], "groupB");
  assert.equal(decayAll["layers.0.LayerNorm.weight"], "groupB");
  disposeTree(p);
});

test("norm-layer paths are recognized by their module name", () => {
  for (const path of [
    "ln_f.weight",
    "h.0.ln_1.weight",
    "input_layernorm.weight",
    "encoder.LayerNorm.weight",
    "norm.weight",
  ]) {
    assert.ok(isLayerNormPath(path), path);
  }
  for (const path of ["lnx.weight", "q_proj.weight", "normalizer_head", "layers.0.attn.weight"]) {
    assert.ok(!isLayerNormPath(path), path);
  }
});

test("paramGroups applies each group's own learning rate", async () => {
  const params = unflatten([
    ["head.weight", tensor([1, 2], [2])],
    ["body.weight", tensor([3, 4], [2])],
  ]);
  const opt = paramGroups<SgdOptions>({
    optimizer: sgd,
    defaults: { lr: 0.1 },
    groups: { head: { lr: 1 }, body: {} },
    label: (path) => (path.startsWith("head") ? "head" : "body"),
  });
  const state = opt.init(params);
  const grads = unflatten([
    ["head.weight", tensor([1, -1], [2])],
    ["body.weight", tensor([1, -1], [2])],
  ]);
  const [u, s2] = opt.update(grads, state, params, 0);
  const next = applyUpdates(params, u);
  const got = Object.fromEntries(
    await Promise.all(flatten(next).map(async ([k, t]) => [k, [...(await read(t))]] as const)),
  );
  assert.deepEqual(got["head.weight"], [0, 3]); // lr 1
  assert.deepEqual(got["body.weight"]?.map((x) => Math.round(x * 1e6) / 1e6), [2.9, 4.1]); // lr 0.1
  disposeTree(next);
  disposeTree(s2);
});

test("a label without a group is a UserError naming the parameter and the groups", () => {
  const params = unflatten([["w", zeros([2])]]);
  const opt = multiTransform({ a: sgd({ lr: 1 }) }, () => "b");
  assert.throws(
    () => opt.init(params),
    (e: unknown) => e instanceof UserError && /w was labelled "b".*groups are a/.test(e.message),
  );
  disposeTree(params);
});

test("loraPlus gives B ratio × lr, A lr, embeddings their own lr, and no decay to norms and biases", async () => {
  const p = loraTree();
  const params = unflatten(flatten(p).map(([k, t]) => [k, t.add(1)] as const)); // all ones
  const grads = unflatten(flatten(params).map(([k, t]) => [k, zeros(t.shape)] as const)); // zero gradients
  // With zero gradients, SGD with weight decay only shrinks: p ← p − lr·wd·p. That exposes both
  // the per-group lr and whether the group decays.
  const opt = chain(
    clipByGlobalNorm(1),
    loraPlus({
      optimizer: sgd,
      defaults: { lr: 0.01, weightDecay: 0.5 },
      loraplus_lr_ratio: 16,
      loraplus_lr_embedding: 0.001,
    }),
  );
  const state = opt.init(params);
  const [u, s2] = opt.update(grads, state, params, 0);
  const next = applyUpdates(params, u);
  const first = async (path: string): Promise<number> => {
    const t = flatten(next).find(([k]) => k === path)?.[1];
    assert.ok(t !== undefined, path);
    return (await read(t))[0] as number;
  };
  const close = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
  close(await first("layers.0.q_proj.lora_A.weight"), 1 - 0.01 * 0.5, "groupA");
  close(await first("layers.0.q_proj.lora_B.weight"), 1 - 0.16 * 0.5, "groupB");
  close(await first("layers.0.dora.magnitude"), 1 - 0.16 * 0.5, "groupB (1-D)");
  close(await first("layers.0.q_proj.bias"), 1, "groupB_no_decay (bias)");
  close(await first("layers.0.LayerNorm.weight"), 1, "groupB_no_decay (norm)");
  close(await first("embed_tokens.lora_embedding_A"), 1 - 0.001 * 0.5, "embedding");
  disposeTree(next);
  disposeTree(s2);
});
