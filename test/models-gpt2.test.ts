// GPT-2 against transformers 5.18 (fixtures: scripts/fixtures/make_lm_fixtures.py): logits and loss
// of a tiny save_pretrained checkpoint with and without the "transformer." key prefix, a PEFT LoRA
// step on the Conv1D c_attn (fan_in_fan_out), the KV-cached decoder, init and bad config fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import * as prng from "../src/core/prng.ts";
import { UserError } from "../src/core/errors.ts";
import { flatten } from "../src/core/tree.ts";
import { initEngine, read, readScalar, refTree, type Tensor } from "../src/engine/index.ts";
import { loadCausalLM, loadHfCheckpoint, openHfCheckpoint } from "../src/io/hf-checkpoint.ts";
import { causalLmLoss, decoder, initLm, lmToTensors, logits, parseLmConfig } from "../src/models/lm.ts";
import { LM_FIXTURES, idsTensor, maskTensor, reference, relError, runPeftStep } from "./support/lm-fixture.ts";

// float32 against float32 with other summation orders; measured ≤ 1e-5 (see models-llama.test.ts).
const TOL = 1e-4;

for (const name of ["gpt2", "gpt2-noprefix"]) {
  test(`${name}: logits, loss and masked loss match transformers`, async () => {
    await initEngine();
    const ref = reference(name);
    const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, name));
    assert.equal(config.modelType, "gpt2");
    assert.ok(flatten(params).every(([p]) => p.startsWith("transformer.")), "param paths carry HF's transformer. prefix");
    const out = logits(params, idsTensor(ref.ids), config);
    const err = relError(await read(out), ref.logits);
    assert.ok(err < TOL, `logits relative error ${err}`);
    const full = causalLmLoss(out.ref, idsTensor(ref.ids));
    assert.ok(Math.abs((await readScalar(full.loss)) / ref.loss - 1) < TOL);
    const masked = causalLmLoss(out, idsTensor(ref.ids), maskTensor(ref.mask));
    assert.ok(Math.abs((await readScalar(masked.loss)) / ref.masked_loss - 1) < TOL);
  });
}

test("the two fixtures differ only in the key prefix", async () => {
  const a = await openHfCheckpoint(path.join(LM_FIXTURES, "gpt2"));
  const b = await openHfCheckpoint(path.join(LM_FIXTURES, "gpt2-noprefix"));
  assert.deepEqual([...a.shapes.keys()].map((k) => k.replace(/^transformer\./, "")).sort(), [...b.shapes.keys()].sort());
  assert.ok([...b.shapes.keys()].every((k) => !k.startsWith("transformer.")));
  await a.close();
  await b.close();
});

test("Conv1D weights are stored [in, out] and become [out, in] linear weights", async () => {
  const { params } = await loadCausalLM(path.join(LM_FIXTURES, "gpt2"));
  const ckpt = await openHfCheckpoint(path.join(LM_FIXTURES, "gpt2"));
  assert.deepEqual(ckpt.shapes.get("transformer.h.0.attn.c_attn.weight"), [32, 96]);
  const file = await ckpt.read("transformer.h.0.attn.c_attn.weight"); // [in 32, out 96]
  await ckpt.close();
  const w = new Map(flatten(params)).get("transformer.h.0.attn.c_attn.weight") as Tensor;
  assert.deepEqual(w.shape, [96, 32]);
  const tree = await read(w);
  assert.equal(tree[5 * 32 + 7], file[7 * 96 + 5]); // W_tree[o=5, i=7] = W_file[i=7, o=5]
});

test("a PEFT LoRA step on c_attn (fan_in_fan_out=True; r=4): loss and gradients match PEFT", async () => {
  await initEngine();
  const r = await runPeftStep("peft-gpt2.json", "gpt2");
  assert.deepEqual(r.keys.filter((k) => k.endsWith("lora_A.weight")), [
    "transformer.h.0.attn.c_attn.lora_A.weight",
    "transformer.h.1.attn.c_attn.lora_A.weight",
  ]);
  assert.ok(Math.abs(r.loss / r.want - 1) < TOL, `loss ${r.loss} vs ${r.want}`);
  assert.ok(r.gradError < TOL, `gradient relative error ${r.gradError}`);
});

test("the KV-cached decoder reproduces the full forward's logits", async () => {
  await initEngine();
  const ref = reference("gpt2");
  const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, "gpt2"));
  const T = (ref.ids[0] as number[]).length;
  const V = config.vocabSize;
  const full = await read(logits(refTree(params), idsTensor(ref.ids), config));
  const dec = decoder(config, T);
  const pre = dec.prefill(refTree(params), idsTensor(ref.ids.map((row) => row.slice(0, 1))));
  pre.logits.dispose();
  let cache = pre.cache;
  let worst = 0;
  for (let t = 1; t < T; t++) {
    const step = dec.step(refTree(params), cache, idsTensor(ref.ids.map((row) => [row[t] as number])), t);
    cache = step.cache;
    const got = await read(step.logits);
    for (let b = 0; b < ref.ids.length; b++) {
      const want = full.subarray((b * T + t) * V, (b * T + t + 1) * V);
      worst = Math.max(worst, relError(got.subarray(b * V, (b + 1) * V), want));
    }
    step.logits.dispose();
  }
  dec.dispose();
  assert.ok(worst < TOL, `decode vs forward relative error ${worst}`);
  assert.throws(() => dec.step(refTree(params), cache, idsTensor([[1], [2]]), T), /decode position 7 is outside the decoder's 7 positions/);
});

test("init: c_proj weights get initializer_range / √(2·n_layer), LayerNorm 1 and 0", async () => {
  await initEngine();
  const { config } = await loadCausalLM(path.join(LM_FIXTURES, "gpt2"));
  const tree = new Map(flatten(initLm(prng.key(3), config)));
  const rms = async (p: string): Promise<number> => {
    const v = await read(tree.get(p) as Tensor);
    return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  };
  assert.ok(Math.abs((await rms("transformer.h.0.mlp.c_fc.weight")) / 0.2 - 1) < 0.1);
  assert.ok(Math.abs((await rms("transformer.h.0.mlp.c_proj.weight")) / (0.2 / 2) - 1) < 0.1);
  assert.deepEqual([...(await read(tree.get("transformer.ln_f.bias") as Tensor))], new Array(32).fill(0));
});

test("sequences longer than n_positions and bad config fields are one sentence each", async () => {
  const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, "gpt2"));
  assert.throws(() => logits(params, idsTensor([new Array<number>(17).fill(1)]), config), /a sequence of 17 tokens is longer than the model's 16 positions/);
  const base = { model_type: "gpt2", vocab_size: 64, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 16 };
  const bad = (patch: Record<string, unknown>, pattern: RegExp): void =>
    assert.throws(
      () => parseLmConfig({ ...base, ...patch }),
      (e: unknown) => e instanceof UserError && pattern.test(e.message),
    );
  bad({ n_head: 5 }, /"n_embd" \(32\) must be a multiple of "n_head" \(5\)/);
  bad({ activation_function: "relu" }, /field "activation_function" must be one of "gelu_new", "gelu_pytorch_tanh"/);
  bad({ scale_attn_by_inverse_layer_idx: true }, /field "scale_attn_by_inverse_layer_idx" must be false/);
  bad({ n_positions: 0 }, /field "n_positions" must be a positive integer, got 0/);
});

test("lmToTensors writes the params back in the file's layout: Conv1D [in, out], the file's key prefix", async () => {
  for (const name of ["gpt2", "gpt2-noprefix"]) {
    const { config, params } = await loadCausalLM(path.join(LM_FIXTURES, name));
    const file = await loadHfCheckpoint(path.join(LM_FIXTURES, name));
    const back = await lmToTensors(params, config, file.tensors.keys());
    assert.deepEqual([...back.keys()].sort(), [...file.tensors.keys()].sort());
    for (const [k, t] of back) assert.deepEqual(t, file.tensors.get(k), k);
  }
});
