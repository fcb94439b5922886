// Adapters trained by lorascope on stories260K and on a random GPT-2 (Conv1D, fan_in_fan_out) load in
// PEFT (`PeftModel.from_pretrained` on the converted folder) and give lorascope's loss: the losses
// PEFT computed are in test/fixtures/lm/peft-roundtrip.json, made with the committed adapters by
// scripts/fixtures/make_lm_peft_roundtrip.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { evaluateLm } from "../src/experiments/lm/evaluate.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import fixture from "./fixtures/lm/peft-roundtrip.json" with { type: "json" };

// float32 on both sides, different summation orders; measured ≤ 1e-6 relative.
const TOL = 1e-4;
const ROOT = path.resolve(import.meta.dirname, "..");

const cases = [
  { name: "stories260k", model: "stories260K", ref: fixture.stories260k },
  { name: "gpt2", model: path.join(ROOT, "test/fixtures/lm/gpt2"), ref: fixture.gpt2 },
] as const;

for (const { name, model, ref } of cases) {
  test(`${name}: PEFT's loss with the lorascope adapter equals lorascope's`, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "lorascope-rt-"));
    const data = path.join(dir, "ids.jsonl");
    await writeFile(data, JSON.stringify({ input_ids: ref.ids }) + "\n");
    const adapter = path.join(ROOT, ref.adapter);
    const common = { model, data, seqLen: ref.ids.length, batch: 1, split: "test" as const };
    const tuned = await evaluateLm({ ...common, adapter });
    const base = await evaluateLm(common);
    assert.equal(tuned.tokens, ref.ids.length - 1);
    assert.ok(Math.abs(tuned.loss / ref.loss - 1) < TOL, `adapter: lorascope ${tuned.loss}, PEFT ${ref.loss}`);
    assert.ok(Math.abs(base.loss / ref.baseLoss - 1) < TOL, `base: lorascope ${base.loss}, transformers ${ref.baseLoss}`);
    assert.ok(Math.abs(ref.loss / ref.baseLoss - 1) > 100 * TOL, "the adapter changes the loss, so the comparison means something");

    const config = JSON.parse(await readFile(path.join(adapter, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config["task_type"], "CAUSAL_LM");
    assert.equal(config["fan_in_fan_out"], name === "gpt2");
    // The model as --model named it when the script trained the adapter (from the repository root).
    assert.equal(config["base_model_name_or_path"], name === "gpt2" ? "test/fixtures/lm/gpt2" : "stories260K");
    const { tensors } = await readSafetensors(path.join(adapter, "adapter_model.safetensors"));
    const first = name === "gpt2" ? "base_model.model.transformer.h.0.attn.c_attn" : "base_model.model.model.layers.0.self_attn.q_proj";
    assert.ok(tensors.has(`${first}.lora_A.weight`) && tensors.has(`${first}.lora_B.weight`), [...tensors.keys()].join(", "));
  });
}
