// Config validation: each bad field gets one UserError sentence naming the field and what is allowed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../src/core/errors.ts";
import { loraConfig, matchesTarget, scaling, type LoraConfig } from "../src/lora/config.ts";

function rejects(partial: Partial<LoraConfig>, pattern: RegExp): void {
  assert.throws(
    () => loraConfig({ target_modules: ["q_proj"], ...partial }),
    (e: unknown) => e instanceof UserError && pattern.test(e.message),
    `expected a UserError matching ${pattern}`,
  );
}

test("defaults are PEFT's (r 8, alpha 8, dropout 0) with init-a", () => {
  const c = loraConfig({ target_modules: ["q_proj"] });
  assert.equal(c.r, 8);
  assert.equal(c.lora_alpha, 8);
  assert.equal(c.lora_dropout, 0);
  assert.equal(c.init_lora_weights, "init-a");
});

test("r must be a positive integer", () => {
  rejects({ r: 0 }, /^r must be a positive integer, got 0$/);
  rejects({ r: -2 }, /r must be a positive integer/);
  rejects({ r: 2.5 }, /r must be a positive integer, got 2\.5/);
});

test("unknown init scheme lists the allowed ones", () => {
  rejects({ init_lora_weights: "kaiming" as LoraConfig["init_lora_weights"] }, /"kaiming" is not a known scheme; use one of init-a, init-b, gaussian/);
});

test("dropout must lie in [0, 1)", () => {
  rejects({ lora_dropout: 1 }, /lora_dropout must be in \[0, 1\), got 1/);
  rejects({ lora_dropout: -0.1 }, /lora_dropout/);
  assert.equal(loraConfig({ target_modules: ["x"], lora_dropout: 0.5 }).lora_dropout, 0.5);
});

test("orthogonal needs an even r; init_std must be positive and not with pissa", () => {
  rejects({ init_lora_weights: "orthogonal", r: 3 }, /orthogonal" needs an even r, got r = 3/);
  assert.equal(loraConfig({ target_modules: ["x"], init_lora_weights: "orthogonal", r: 4 }).r, 4);
  rejects({ init_std: 0 }, /init_std must be a positive number/);
  rejects({ init_std: 0.1, init_lora_weights: "pissa" }, /init_std cannot be used with init_lora_weights "pissa"/);
});

test("a bad regex for target_modules is reported", () => {
  rejects({ target_modules: "q_proj(" }, /not a valid regular expression/);
});

test("scaling is alpha/r, or alpha/√r with rsLoRA; matching is exact/suffix for lists, full regex for strings", () => {
  assert.equal(scaling({ r: 16, lora_alpha: 32, use_rslora: false }), 2);
  assert.equal(scaling({ r: 16, lora_alpha: 32, use_rslora: true }), 8);
  assert.ok(matchesTarget(["q_proj"], "layers.0.attn.q_proj"));
  assert.ok(!matchesTarget(["proj"], "layers.0.attn.q_proj"));
  assert.ok(matchesTarget("layers\\.\\d+\\.attn\\.q_proj", "layers.3.attn.q_proj"));
  assert.ok(!matchesTarget("q_proj", "layers.3.attn.q_proj"));
});
