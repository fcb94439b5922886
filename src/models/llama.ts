// Llama (LlamaForCausalLM) as params + pure functions, following transformers'
// models/llama/modeling_llama.py (5.x) line for line:
//
//   x = embed_tokens[ids]                                               [B, T, d]
//   per layer (pre-norm):
//     h = x + o_proj(attn(rope(q_proj(n)), rope(k_proj(n)), v_proj(n)))   n = input_layernorm(x)
//     x = h + down_proj(silu(gate_proj(m)) ⊙ up_proj(m))                m = post_attention_layernorm(h)
//   logits = lm_head(norm(x))       lm_head = embed_tokensᵀ when tie_word_embeddings
//
// RMSNorm with rms_norm_eps; RoPE in the rotate-half layout with rope_theta; grouped-query
// attention with num_key_value_heads; head_dim from config or hidden_size / num_attention_heads.
// Param paths are HF's module paths (model.layers.N.self_attn.q_proj, …), so PEFT target_modules
// and adapter keys apply unchanged. Checked against transformers' logits in test/models-llama.test.ts.
import type { Key } from "../core/prng.ts";
import { getPath, isTensor, type Params } from "../core/tree.ts";
import { np, type Tensor } from "../engine/index.ts";
import { silu } from "../nn/activation.ts";
import { attend, causalBias } from "../nn/attention.ts";
import { at, type Ctx } from "../nn/context.ts";
import * as embedding from "../nn/embedding.ts";
import * as linear from "../nn/linear.ts";
import { rmsNorm } from "../nn/norm.ts";
import * as rope from "../nn/rope.ts";
import { ConfigReader, initFromSlots, paramsFromTensors, type HostF32, type KvCache, type TensorSlot } from "./lm-tensors.ts";

export interface LlamaConfig {
  readonly modelType: "llama";
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  readonly initializerRange: number;
}

/** Validate a parsed config.json (model_type "llama"); `source` names the file in errors. */
export function parseConfig(json: Record<string, unknown>, source = "config.json"): LlamaConfig {
  const c = new ConfigReader(json, source);
  const hiddenSize = c.int("hidden_size");
  const numHeads = c.int("num_attention_heads");
  const numKvHeads = c.int("num_key_value_heads", numHeads);
  c.divides("num_key_value_heads", numKvHeads, "num_attention_heads", numHeads);
  if (!c.has("head_dim")) c.divides("num_attention_heads", numHeads, "hidden_size", hiddenSize);
  const headDim = c.int("head_dim", hiddenSize / numHeads);
  c.require(headDim % 2 === 0, "head_dim", "even (RoPE rotates pairs of features)");
  c.oneOf("hidden_act", ["silu"]);
  c.fixed("attention_bias", false);
  c.fixed("mlp_bias", false);
  c.fixed("pretraining_tp", 1);
  // transformers 5 writes rope_parameters {rope_type, rope_theta}; 4.x wrote rope_theta (and rope_scaling).
  const ropeParams = c.raw("rope_parameters");
  let ropeTheta: number;
  if (typeof ropeParams === "object" && ropeParams !== null && !Array.isArray(ropeParams)) {
    const r = new ConfigReader(ropeParams as Record<string, unknown>, `${source} rope_parameters`);
    r.oneOf("rope_type", ["default"]);
    ropeTheta = r.num("rope_theta", 10000);
  } else {
    const scaling = c.raw("rope_scaling");
    if (scaling !== undefined && scaling !== null) c.fixed("rope_scaling", null);
    ropeTheta = c.num("rope_theta", 10000);
  }
  return {
    modelType: "llama",
    vocabSize: c.int("vocab_size"),
    hiddenSize,
    intermediateSize: c.int("intermediate_size"),
    numLayers: c.int("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: c.num("rms_norm_eps", 1e-6),
    ropeTheta,
    maxPositions: c.int("max_position_embeddings", 2048),
    tieWordEmbeddings: c.bool("tie_word_embeddings", false),
    initializerRange: c.num("initializer_range", 0.02),
  };
}

/** Every tensor of the model: file key = param path (HF names them the same). */
export function slots(cfg: LlamaConfig): TensorSlot[] {
  const std = { normal: cfg.initializerRange };
  const one = { constant: 1 };
  const d = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const out: TensorSlot[] = [{ key: "model.embed_tokens.weight", path: "model.embed_tokens.weight", shape: [cfg.vocabSize, d], init: std }];
  const add = (path: string, shape: number[], init: TensorSlot["init"]): void => void out.push({ key: path, path, shape, init });
  for (let i = 0; i < cfg.numLayers; i++) {
    const l = `model.layers.${i}`;
    add(`${l}.input_layernorm.weight`, [d], one);
    add(`${l}.self_attn.q_proj.weight`, [q, d], std);
    add(`${l}.self_attn.k_proj.weight`, [kv, d], std);
    add(`${l}.self_attn.v_proj.weight`, [kv, d], std);
    add(`${l}.self_attn.o_proj.weight`, [d, q], std);
    add(`${l}.post_attention_layernorm.weight`, [d], one);
    add(`${l}.mlp.gate_proj.weight`, [cfg.intermediateSize, d], std);
    add(`${l}.mlp.up_proj.weight`, [cfg.intermediateSize, d], std);
    add(`${l}.mlp.down_proj.weight`, [d, cfg.intermediateSize], std);
  }
  add("model.norm.weight", [d], one);
  if (!cfg.tieWordEmbeddings) add("lm_head.weight", [cfg.vocabSize, d], std);
  return out;
}

/** Checkpoint keys that carry nothing the model needs: old rotary buffers, a saved tied head. */
export function ignorable(cfg: LlamaConfig): (key: string) => boolean {
  return (key) => /\.rotary_emb\.inv_freq$/.test(key) || (cfg.tieWordEmbeddings && key === "lm_head.weight");
}

/** Random params, HF's init: normal(0, initializer_range) for matrices, 1 for norm weights. Owned. */
export function init(key: Key, cfg: LlamaConfig): Params {
  return initFromSlots(key, slots(cfg));
}

/** Params from checkpoint tensors (names and shapes checked; one UserError lists every mismatch). */
export function fromTensors(tensors: ReadonlyMap<string, HostF32>, cfg: LlamaConfig, source = "the checkpoint"): Params {
  return paramsFromTensors(slots(cfg), tensors, ignorable(cfg), source, "llama");
}

function sub(p: Params, path: string): Params {
  const m = getPath(p, path);
  if (m === undefined || isTensor(m)) throw new Error(`llama params lack the module "${path}"`);
  return m;
}

function weight(p: Params, path: string): Tensor {
  const t = getPath(p, path);
  if (t === undefined || !isTensor(t)) throw new Error(`llama params lack the tensor "${path}"`);
  return t;
}

/** What one forward pass attends over. */
interface Pass {
  /** RoPE tables for the T new positions [T, dh/2]. */
  readonly rope: rope.RopeTables;
  /** Additive mask [T, S]. */
  readonly bias: Tensor;
  /** Decode: write the new k/v (T = 1) into the cache at the one-hot `slot` [S, 1]. */
  readonly cache?: { readonly kv: KvCache; readonly slot: Tensor };
  /** Return each layer's k and v (prefill). */
  readonly keep: boolean;
}

/** [B, T, n·dh] → [B, n, T, dh]. */
function heads(t: Tensor, n: number, dh: number): Tensor {
  const [B, T] = t.shape as [number, number, number];
  return t.reshape([B, T, n, dh]).transpose([0, 2, 1, 3]);
}

function attention(
  p: Params,
  x: Tensor,
  cfg: LlamaConfig,
  pass: Pass,
  i: number,
  kvOut: KvCache,
  ctx: Ctx | undefined,
): Tensor {
  const dh = cfg.headDim;
  const q = rope.apply(heads(linear.apply(sub(p, "q_proj"), x.ref, at(ctx, "q_proj")), cfg.numHeads, dh), refRope(pass.rope)); // [B, H, T, dh]
  let k = rope.apply(heads(linear.apply(sub(p, "k_proj"), x.ref, at(ctx, "k_proj")), cfg.numKvHeads, dh), refRope(pass.rope)); // [B, Hkv, T, dh]
  let v = heads(linear.apply(sub(p, "v_proj"), x, at(ctx, "v_proj")), cfg.numKvHeads, dh); // [B, Hkv, T, dh]
  if (pass.cache !== undefined) {
    // T = 1: k [B, Hkv, 1, dh] broadcasts along the slot axis; slot [S, 1] is 1 at the new position.
    const { kv, slot } = pass.cache;
    const keepOld = np.subtract(1, slot.ref);
    k = (kv.k[i] as Tensor).mul(keepOld.ref).add(k.mul(slot.ref)); // [B, Hkv, S, dh]
    v = (kv.v[i] as Tensor).mul(keepOld).add(v.mul(slot.ref)); // [B, Hkv, S, dh]
  }
  if (pass.keep || pass.cache !== undefined) {
    kvOut.k.push(k.ref);
    kvOut.v.push(v.ref);
  }
  const merged = attend(q, k, v, pass.bias.ref, 1 / Math.sqrt(dh)); // [B, T, H·dh]
  return linear.apply(sub(p, "o_proj"), merged, at(ctx, "o_proj")); // [B, T, d]
}

function refRope(t: rope.RopeTables): rope.RopeTables {
  return { cos: t.cos.ref, sin: t.sin.ref };
}

function mlp(p: Params, x: Tensor, ctx: Ctx | undefined): Tensor {
  const gate = silu(linear.apply(sub(p, "gate_proj"), x.ref, at(ctx, "gate_proj"))); // [B, T, ffn]
  const up = linear.apply(sub(p, "up_proj"), x, at(ctx, "up_proj")); // [B, T, ffn]
  return linear.apply(sub(p, "down_proj"), gate.mul(up), at(ctx, "down_proj")); // [B, T, d]
}

/** The whole network for one pass; consumes params, ids and the pass's tensors. */
function forward(
  params: Params,
  ids: Tensor,
  cfg: LlamaConfig,
  pass: Pass,
  ctx: Ctx | undefined,
): { logits: Tensor; kv: KvCache } {
  const eps = cfg.rmsNormEps;
  const kv: KvCache = { k: [], v: [] };
  const tied = cfg.tieWordEmbeddings;
  const embed = weight(params, "model.embed_tokens.weight");
  let x = embedding.apply(tied ? embed.ref : embed, ids); // [B, T, d]
  for (let i = 0; i < cfg.numLayers; i++) {
    const path = `model.layers.${i}`;
    const layer = sub(params, path);
    const lctx = at(ctx, path);
    const n = rmsNorm(sub(layer, "input_layernorm"), x.ref, eps, `${path}.input_layernorm`);
    const h = x.add(attention(sub(layer, "self_attn"), n, cfg, pass, i, kv, at(lctx, "self_attn"))); // [B, T, d]
    const m = rmsNorm(sub(layer, "post_attention_layernorm"), h.ref, eps, `${path}.post_attention_layernorm`);
    x = h.add(mlp(sub(layer, "mlp"), m, at(lctx, "mlp"))); // [B, T, d]
  }
  pass.bias.dispose();
  pass.rope.cos.dispose();
  pass.rope.sin.dispose();
  pass.cache?.slot.dispose(); // (the old cache tensors were consumed layer by layer)
  const normed = rmsNorm(sub(params, "model.norm"), x, eps, "model.norm"); // [B, T, d]
  const logits = tied
    ? np.matmul(normed, embed.transpose()) // [B,T,d]·[d,V] = [B, T, V]
    : linear.apply(sub(params, "lm_head"), normed, at(ctx, "lm_head"));
  return { logits, kv };
}

/** Logits [B, T, vocab] for int32 ids [B, T] (right padding only). Consumes `params` and `ids`. */
export function apply(params: Params, ids: Tensor, cfg: LlamaConfig, ctx?: Ctx): Tensor {
  const T = ids.shape[1] as number;
  const pass: Pass = { rope: rope.tables(cfg.headDim, cfg.ropeTheta, 0, T), bias: causalBias(T, T), keep: false };
  return forward(params, ids, cfg, pass, ctx).logits;
}

/**
 * Run the prompt ids [B, T] and return its logits [B, T, V] and a cache of `length` ≥ T slots
 * (zeros past T). Consumes `params` and `ids`.
 */
export function prefill(
  params: Params,
  ids: Tensor,
  cfg: LlamaConfig,
  length: number,
  ctx?: Ctx,
): { logits: Tensor; cache: KvCache } {
  const [B, T] = ids.shape as [number, number];
  const pass: Pass = { rope: rope.tables(cfg.headDim, cfg.ropeTheta, 0, T), bias: causalBias(T, T), keep: true };
  const { logits, kv } = forward(params, ids, cfg, pass, ctx);
  const padding = [B, cfg.numKvHeads, length - T, cfg.headDim];
  const pad = (t: Tensor): Tensor =>
    length === T ? t : np.concatenate([t, np.zeros(padding)], 2); // [B, Hkv, length, dh]
  return { logits, cache: { k: kv.k.map(pad), v: kv.v.map(pad) } };
}

/** The position-dependent inputs of one decode step at `position` in a cache of `length` slots. Owned. */
export function stepInputs(cfg: LlamaConfig, position: number, length: number): Record<string, Tensor> {
  const t = rope.tables(cfg.headDim, cfg.ropeTheta, position, 1);
  const slot = new Float32Array(length);
  slot[position] = 1;
  return { cos: t.cos, sin: t.sin, bias: causalBias(1, length, position), slot: np.array(slot).reshape([length, 1]) };
}

/**
 * One token per sequence: ids [B, 1] at the position `inputs` were made for → logits [B, 1, V] and the
 * updated cache. Consumes everything; shapes do not depend on the position, so one jit trace serves all.
 */
export function decodeStep(
  params: Params,
  cache: KvCache,
  ids: Tensor,
  inputs: Record<string, Tensor>,
  cfg: LlamaConfig,
  ctx?: Ctx,
): { logits: Tensor; cache: KvCache } {
  const { cos, sin, bias, slot } = inputs as { cos: Tensor; sin: Tensor; bias: Tensor; slot: Tensor };
  const pass: Pass = { rope: { cos, sin }, bias, cache: { kv: cache, slot }, keep: false };
  const { logits, kv } = forward(params, ids, cfg, pass, ctx);
  return { logits, cache: kv };
}
