// Llama against transformers 5.18 (fixtures: scripts/fixtures/make_lm_fixtures.py): logits and the
// causal-LM loss of tiny save_pretrained checkpoints (GQA + tied head, untied head with an explicit
// head_dim, BF16, sharded), a PEFT LoRA step's loss and factor gradients, the KV-cached decoder
// against the full forward, the random init, and the config's bad-input sentences.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import * as prng from "../src/core/prng.ts";
import { flatten } from "../src/core/tree.ts";
import { UserError } from "../src/core/errors.ts";
import { initEngine, read, readScalar, refTree, type Tensor } from "../src/engine/index.ts";
import { loadCausalLM } from "../src/io/hf-checkpoint.ts";
import * as llama from "../src/models/llama.ts";
import { causalLmLoss, decoder, initLm, logits, parseLmConfig } from "../src/models/lm.ts";
import { LM_FIXTURES, idsTensor, maskTensor, reference, relError, runPeftStep } from "./support/lm-fixture.ts";

// float32 vs float32 with different summation orders: the measured errors are ≤ 1e-5 (logits) and
// ≤ 2e-6 (losses); 1e-4 leaves room for other SIMD widths.
const TOL = 1e-4;

for (const name of ["llama-gqa-tied", "llama-untied", "llama-bf16", "llama-sharded"]) {
  test(`${name}: logits, loss and masked loss match transformers`, async () => {
    await initEngine();
    const ref = reference(name);
    const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, name));
    assert.equal(config.modelType, "llama");
    const out = logits(params, idsTensor(ref.ids), config);
    assert.deepEqual(out.shape, ref.logits_shape);
    const err = relError(await read(out), ref.logits);
    assert.ok(err < TOL, `logits relative error ${err}`);
    const full = causalLmLoss(out.ref, idsTensor(ref.ids));
    assert.ok(Math.abs((await readScalar(full.loss)) / ref.loss - 1) < TOL);
    assert.equal(await readScalar(full.count), ref.ids.length * ((ref.ids[0] as number[]).length - 1));
    const masked = causalLmLoss(out, idsTensor(ref.ids), maskTensor(ref.mask));
    assert.ok(Math.abs((await readScalar(masked.loss)) / ref.masked_loss - 1) < TOL, "masked loss");
    // B·(T−1) targets less the two padded ones of the second row.
    assert.equal(await readScalar(masked.count), ref.ids.length * ((ref.ids[0] as number[]).length - 1) - 2);
  });
}

test("the configs load as written: GQA 2:1 tied, head_dim 16 ≠ hidden/heads untied, rope_theta from rope_parameters", async () => {
  const tied = (await loadCausalLM(path.join(LM_FIXTURES, "llama-gqa-tied"))).config;
  const untied = (await loadCausalLM(path.join(LM_FIXTURES, "llama-untied"))).config;
  assert.ok(tied.modelType === "llama" && untied.modelType === "llama");
  assert.deepEqual([tied.numHeads, tied.numKvHeads, tied.headDim, tied.tieWordEmbeddings], [4, 2, 8, true]);
  assert.deepEqual([untied.headDim, untied.tieWordEmbeddings, untied.ropeTheta], [16, false, 500]);
});

test("a PEFT LoRA step (q_proj, v_proj; r=4): loss and lora_A/lora_B gradients match PEFT", async () => {
  await initEngine();
  const r = await runPeftStep("peft-llama.json", "llama-gqa-tied");
  assert.equal(r.keys.length, 8); // 2 layers × 2 modules × {A, B}
  assert.ok(r.keys.includes("model.layers.1.self_attn.v_proj.lora_B.weight"));
  assert.ok(Math.abs(r.loss / r.want - 1) < TOL, `loss ${r.loss} vs ${r.want}`);
  assert.ok(r.gradError < TOL, `gradient relative error ${r.gradError}`);
});

test("the KV-cached decoder reproduces the full forward's logits token by token", async () => {
  await initEngine();
  const ref = reference("llama-gqa-tied");
  const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, "llama-gqa-tied"));
  const ids = ref.ids;
  const T = (ids[0] as number[]).length;
  const full = await read(logits(refTree(params), idsTensor(ids), config));
  const V = config.vocabSize;
  const prompt = 3;
  const dec = decoder(config, T + 1);
  const pre = dec.prefill(refTree(params), idsTensor(ids.map((row) => row.slice(0, prompt))));
  pre.logits.dispose();
  let cache = pre.cache;
  let worst = 0;
  for (let t = prompt; t < T; t++) {
    const step = dec.step(refTree(params), cache, idsTensor(ids.map((row) => [row[t] as number])), t);
    cache = step.cache;
    const got = await read(step.logits); // [B, 1, V]
    for (let b = 0; b < ids.length; b++) {
      const want = full.subarray((b * T + t) * V, (b * T + t + 1) * V);
      worst = Math.max(worst, relError(got.subarray(b * V, (b + 1) * V), want));
    }
    step.logits.dispose();
  }
  dec.dispose();
  assert.ok(worst < TOL, `decode vs forward relative error ${worst}`);
});

test("init draws HF's init: normal(0, initializer_range) matrices, unit norms, the same tree as a checkpoint", async () => {
  await initEngine();
  const { config, params: loaded } = await loadCausalLM(path.join(LM_FIXTURES, "llama-gqa-tied"));
  const fresh = initLm(prng.key(0), config);
  assert.deepEqual(flatten(fresh).map(([p, t]) => [p, t.shape]), flatten(loaded).map(([p, t]) => [p, t.shape]));
  const tree = new Map(flatten(fresh));
  const q = await read(tree.get("model.layers.0.self_attn.q_proj.weight") as Tensor);
  const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
  assert.ok(Math.abs(std / 0.2 - 1) < 0.15, `std ${std} for initializer_range 0.2 over ${q.length} draws`);
  assert.deepEqual([...(await read(tree.get("model.norm.weight") as Tensor))], new Array(32).fill(1));
  const again = await read(flatten(initLm(prng.key(0), config))[1]?.[1] as Tensor);
  assert.deepEqual(again, await read(flatten(fresh)[1]?.[1] as Tensor), "same key, same params");
});

const BASE = {
  model_type: "llama", vocab_size: 512, hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
  num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 512, rope_theta: 10000, rms_norm_eps: 1e-5,
};

test("a stories260K-shaped config (dim 64, 8 heads, 4 KV heads) gives head dim 8 and runs", async () => {
  await initEngine();
  const cfg = parseLmConfig(BASE);
  assert.ok(cfg.modelType === "llama");
  assert.deepEqual([cfg.headDim, cfg.numKvHeads, cfg.tieWordEmbeddings], [8, 4, false]);
  const out = logits(llama.init(prng.key(1), cfg), idsTensor([[1, 2, 3, 4]]), cfg);
  assert.deepEqual(out.shape, [1, 4, 512]);
  assert.ok((await read(out)).every(Number.isFinite));
});

test("bad config fields get one sentence naming the field", () => {
  const bad = (patch: Record<string, unknown>, pattern: RegExp): void =>
    assert.throws(
      () => parseLmConfig({ ...BASE, ...patch }),
      (e: unknown) => e instanceof UserError && pattern.test(e.message),
    );
  bad({ model_type: "mistral" }, /model_type "mistral", which lorascope does not implement; supported: "llama", "gpt2"/);
  bad({ hidden_size: "64" }, /field "hidden_size" must be a positive integer, got "64"/);
  bad({ num_key_value_heads: 3 }, /"num_attention_heads" \(8\) must be a multiple of "num_key_value_heads" \(3\)/);
  bad({ hidden_act: "gelu" }, /field "hidden_act" must be one of "silu"/);
  bad({ attention_bias: true }, /field "attention_bias" must be false/);
  bad({ rope_theta: undefined, rope_parameters: { rope_type: "yarn", rope_theta: 1e4 } }, /rope_parameters: field "rope_type" must be one of "default"/);
  bad({ rms_norm_eps: -1 }, /field "rms_norm_eps" must be a positive number/);
  bad({ head_dim: 7 }, /field "head_dim" must be even/);
});

test("PEFT target_modules reach the HF module paths: injected q_proj/v_proj adapters, a no-op at Init[A]", async () => {
  await initEngine();
  const { injectLora } = await import("../src/lora/inject.ts");
  const { loraConfig, scaling } = await import("../src/lora/config.ts");
  const { context } = await import("../src/lora/linear.ts");
  const ref = reference("llama-untied");
  const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, "llama-untied"));
  const cfg = loraConfig({ target_modules: ["q_proj", "v_proj", "lm_head"], r: 2, init_lora_weights: "init-a" });
  const injected = await injectLora(prng.key(9), params, cfg);
  assert.deepEqual([...injected.targets].sort(), [
    "lm_head",
    "model.layers.0.self_attn.q_proj",
    "model.layers.0.self_attn.v_proj",
    "model.layers.1.self_attn.q_proj",
    "model.layers.1.self_attn.v_proj",
  ]);
  const out = logits(injected.params, idsTensor(ref.ids), config, context({ scaling: scaling(cfg) }));
  const err = relError(await read(out), ref.logits);
  assert.ok(err < TOL, `B = 0 leaves the logits as they were (relative error ${err})`);
});

test("a LoRA loss gradient leaves no buffer behind, eager or jitted (one trace, no scatter in the backward)", async () => {
  await initEngine();
  const { trackAllocations, liveBuffers, valueAndGrad, jit, disposeTree, tensor } = await import("../src/engine/index.ts");
  const { combine, partition, setPath } = await import("../src/core/tree.ts");
  const { context } = await import("../src/lora/linear.ts");
  const { peftStep } = await import("./support/lm-fixture.ts");
  await trackAllocations();
  const step = peftStep("peft-llama.json");
  const { config, params: base } = await loadCausalLM(path.join(LM_FIXTURES, "llama-gqa-tied"));
  let params = base;
  for (const [k, f] of Object.entries(step.factors)) params = setPath(params, k.replace(/^base_model\.model\./, ""), tensor(Float32Array.from(f.data), f.shape));
  const [trainable, frozen] = partition(params, (p) => p.includes(".lora_"));
  const ctx = context({ scaling: step.lora_alpha / step.r });
  const lossOf = (t: typeof trainable, f: typeof frozen): Tensor => {
    const ids = idsTensor(step.ids);
    const { loss, count } = causalLmLoss(logits(combine(t, f), ids.ref, config, ctx), ids);
    count.dispose();
    return loss;
  };
  let traces = 0;
  const eager = valueAndGrad(lossOf);
  const jitted = jit(valueAndGrad((t: typeof trainable, f: typeof frozen) => (traces++, lossOf(t, f))));
  for (const [name, fn] of [["eager", eager], ["jit", jitted]] as const) {
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [loss, grads] = fn(refTree(trainable), refTree(frozen));
      assert.ok(Math.abs((await readScalar(loss)) / step.loss - 1) < TOL, `${name} loss`);
      loss.dispose();
      disposeTree(grads);
      counts.push(liveBuffers());
    }
    // The first jitted call keeps its compiled constants; after it, every call must leave the count as it found it.
    assert.equal(counts[2], counts[1], `${name} leaks buffers per call: ${counts.join(", ")}`);
  }
  assert.equal(traces, 1);
});
