// GPT-2 (GPT2LMHeadModel) as params + pure functions, following transformers'
// models/gpt2/modeling_gpt2.py (5.x):
//
//   x = wte[ids] + wpe[positions]                                          [B, T, d]
//   per layer (pre-norm):
//     h = x + attn.c_proj(attn(split(attn.c_attn(ln_1(x)))))          c_attn → q | k | v, each [B, T, d]
//     x = h + mlp.c_proj(gelu_new(mlp.c_fc(ln_2(h))))
//   logits = ln_f(x)·wteᵀ          (the head is always tied to wte in GPT-2 checkpoints)
//
// Conv1D: GPT-2's projections store weight [in, out] (y = x·W + b). They are transposed to
// [out, in] when loaded, so every projection is an ordinary nn/linear module and LoRA on it is
// plain LoRA: this is exactly PEFT's `fan_in_fan_out=True` (A [r, in], B [out, r]; PEFT transposes
// only the base weight). `slots` marks these tensors `transposed`, so writing merged weights back
// in GPT-2's layout transposes them again. Param paths carry the `transformer.` prefix as HF's
// module tree does; checkpoints without it (the original GPT-2 files) load too.
import type { Key } from "../core/prng.ts";
import { getPath, isTensor, type Params } from "../core/tree.ts";
import { np, type Tensor } from "../engine/index.ts";
import { gelu } from "../nn/activation.ts";
import { attend, causalBias } from "../nn/attention.ts";
import { at, type Ctx } from "../nn/context.ts";
import * as embedding from "../nn/embedding.ts";
import * as linear from "../nn/linear.ts";
import { layerNorm } from "../nn/norm.ts";
import { ConfigReader, initFromSlots, paramsFromTensors, type HostF32, type KvCache, type TensorSlot } from "./lm-tensors.ts";

export interface GPT2Config {
  readonly modelType: "gpt2";
  readonly vocabSize: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nInner: number;
  readonly nPositions: number;
  readonly layerNormEps: number;
  readonly initializerRange: number;
}

/** Validate a parsed config.json (model_type "gpt2"); `source` names the file in errors. */
export function parseConfig(json: Record<string, unknown>, source = "config.json"): GPT2Config {
  const c = new ConfigReader(json, source);
  const nEmbd = c.int("n_embd");
  const nHead = c.int("n_head");
  c.divides("n_head", nHead, "n_embd", nEmbd);
  c.oneOf("activation_function", ["gelu_new", "gelu_pytorch_tanh"]);
  c.fixed("scale_attn_weights", true);
  c.fixed("scale_attn_by_inverse_layer_idx", false);
  c.fixed("add_cross_attention", false);
  c.fixed("tie_word_embeddings", true);
  return {
    modelType: "gpt2",
    vocabSize: c.int("vocab_size"),
    nEmbd,
    nLayer: c.int("n_layer"),
    nHead,
    nInner: c.int("n_inner", 4 * nEmbd),
    nPositions: c.int("n_positions"),
    layerNormEps: c.num("layer_norm_epsilon", 1e-5),
    initializerRange: c.num("initializer_range", 0.02),
  };
}

/**
 * Every tensor of the model. `prefixed`: the file's keys start with "transformer." (save_pretrained)
 * or not (the original GPT-2 files); param paths always have it.
 */
export function slots(cfg: GPT2Config, prefixed = true): TensorSlot[] {
  const std = { normal: cfg.initializerRange };
  // HF `_init_weights`: c_proj weights get std / √(2·n_layer) (GPT-2 paper §2.3, residual scaling).
  const projStd = { normal: cfg.initializerRange / Math.sqrt(2 * cfg.nLayer) };
  const one = { constant: 1 };
  const zero = { constant: 0 };
  const d = cfg.nEmbd;
  const out: TensorSlot[] = [];
  const add = (name: string, shape: number[], init: TensorSlot["init"], transposed = false): void =>
    void out.push({ key: prefixed ? `transformer.${name}` : name, path: `transformer.${name}`, shape, init, ...(transposed ? { transposed } : {}) });
  add("wte.weight", [cfg.vocabSize, d], std);
  add("wpe.weight", [cfg.nPositions, d], std);
  for (let i = 0; i < cfg.nLayer; i++) {
    const l = `h.${i}`;
    add(`${l}.ln_1.weight`, [d], one);
    add(`${l}.ln_1.bias`, [d], zero);
    add(`${l}.attn.c_attn.weight`, [3 * d, d], std, true);
    add(`${l}.attn.c_attn.bias`, [3 * d], zero);
    add(`${l}.attn.c_proj.weight`, [d, d], projStd, true);
    add(`${l}.attn.c_proj.bias`, [d], zero);
    add(`${l}.ln_2.weight`, [d], one);
    add(`${l}.ln_2.bias`, [d], zero);
    add(`${l}.mlp.c_fc.weight`, [cfg.nInner, d], std, true);
    add(`${l}.mlp.c_fc.bias`, [cfg.nInner], zero);
    add(`${l}.mlp.c_proj.weight`, [d, cfg.nInner], projStd, true);
    add(`${l}.mlp.c_proj.bias`, [d], zero);
  }
  add("ln_f.weight", [d], one);
  add("ln_f.bias", [d], zero);
  return out;
}

/** Does a checkpoint use the "transformer." key prefix? */
export function hasPrefix(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.startsWith("transformer.")) return true;
  return false;
}

/** Keys that carry nothing the model needs: the causal-mask buffers of old files, the tied head. */
export function ignorable(key: string): boolean {
  return /(^|\.)attn\.(bias|masked_bias)$/.test(key) || key === "lm_head.weight";
}

/** Random params, HF's init (normal(0, initializer_range), scaled c_proj, LayerNorm 1 and 0). Owned. */
export function init(key: Key, cfg: GPT2Config): Params {
  return initFromSlots(key, slots(cfg));
}

/** Params from checkpoint tensors, with or without the "transformer." prefix (names and shapes checked). */
export function fromTensors(tensors: ReadonlyMap<string, HostF32>, cfg: GPT2Config, source = "the checkpoint"): Params {
  return paramsFromTensors(slots(cfg, hasPrefix(tensors.keys())), tensors, ignorable, source, "gpt2");
}

function sub(p: Params, path: string): Params {
  const m = getPath(p, path);
  if (m === undefined || isTensor(m)) throw new Error(`gpt2 params lack the module "${path}"`);
  return m;
}

function weight(p: Params, path: string): Tensor {
  const t = getPath(p, path);
  if (t === undefined || !isTensor(t)) throw new Error(`gpt2 params lack the tensor "${path}"`);
  return t;
}

interface Pass {
  /** int32 positions of the T new tokens [T]. */
  readonly positions: Tensor;
  /** Additive mask [T, S]. */
  readonly bias: Tensor;
  readonly cache?: { readonly kv: KvCache; readonly slot: Tensor };
  readonly keep: boolean;
}

function attention(
  p: Params,
  x: Tensor,
  cfg: GPT2Config,
  pass: Pass,
  i: number,
  kvOut: KvCache,
  ctx: Ctx | undefined,
): Tensor {
  const [B, T] = x.shape as [number, number, number];
  const d = cfg.nEmbd;
  const dh = d / cfg.nHead;
  const qkv = linear.apply(sub(p, "c_attn"), x, at(ctx, "c_attn")); // [B, T, 3d]
  const split = (j: number): Tensor =>
    qkv.ref.slice([], [], [j * d, (j + 1) * d]).reshape([B, T, cfg.nHead, dh]).transpose([0, 2, 1, 3]); // [B, H, T, dh]
  const q = split(0);
  let k = split(1);
  let v = split(2);
  qkv.dispose();
  if (pass.cache !== undefined) {
    const { kv, slot } = pass.cache;
    const keepOld = np.subtract(1, slot.ref);
    k = (kv.k[i] as Tensor).mul(keepOld.ref).add(k.mul(slot.ref)); // [B, H, S, dh]
    v = (kv.v[i] as Tensor).mul(keepOld).add(v.mul(slot.ref)); // [B, H, S, dh]
  }
  if (pass.keep || pass.cache !== undefined) {
    kvOut.k.push(k.ref);
    kvOut.v.push(v.ref);
  }
  const merged = attend(q, k, v, pass.bias.ref, 1 / Math.sqrt(dh)); // [B, T, d]
  return linear.apply(sub(p, "c_proj"), merged, at(ctx, "c_proj")); // [B, T, d]
}

function forward(
  params: Params,
  ids: Tensor,
  cfg: GPT2Config,
  pass: Pass,
  ctx: Ctx | undefined,
): { logits: Tensor; kv: KvCache } {
  const eps = cfg.layerNormEps;
  const kv: KvCache = { k: [], v: [] };
  const wte = weight(params, "transformer.wte.weight");
  const pos = embedding.apply(weight(params, "transformer.wpe.weight"), pass.positions); // [T, d]
  let x = embedding.apply(wte.ref, ids).add(pos); // [B, T, d]
  for (let i = 0; i < cfg.nLayer; i++) {
    const path = `transformer.h.${i}`;
    const layer = sub(params, path);
    const lctx = at(ctx, path);
    const a = layerNorm(sub(layer, "ln_1"), x.ref, eps, `${path}.ln_1`);
    const h = x.add(attention(sub(layer, "attn"), a, cfg, pass, i, kv, at(lctx, "attn"))); // [B, T, d]
    const m = layerNorm(sub(layer, "ln_2"), h.ref, eps, `${path}.ln_2`);
    const mlp = sub(layer, "mlp");
    const mctx = at(lctx, "mlp");
    const hidden = gelu(linear.apply(sub(mlp, "c_fc"), m, at(mctx, "c_fc"))); // [B, T, inner]
    x = h.add(linear.apply(sub(mlp, "c_proj"), hidden, at(mctx, "c_proj"))); // [B, T, d]
  }
  pass.bias.dispose();
  pass.cache?.slot.dispose(); // (the old cache tensors were consumed layer by layer)
  const normed = layerNorm(sub(params, "transformer.ln_f"), x, eps, "transformer.ln_f");
  return { logits: np.matmul(normed, wte.transpose()), kv }; // [B,T,d]·[d,V] = [B, T, V]
}

function positions(offset: number, count: number): Tensor {
  return np.array(Int32Array.from({ length: count }, (_, t) => offset + t));
}

/** Logits [B, T, vocab] for int32 ids [B, T], T ≤ n_positions (right padding only). Consumes `params` and `ids`. */
export function apply(params: Params, ids: Tensor, cfg: GPT2Config, ctx?: Ctx): Tensor {
  const T = ids.shape[1] as number;
  return forward(params, ids, cfg, { positions: positions(0, T), bias: causalBias(T, T), keep: false }, ctx).logits;
}

/** Prompt logits [B, T, V] and a cache of `length` ≥ T slots (zeros past T). Consumes `params` and `ids`. */
export function prefill(
  params: Params,
  ids: Tensor,
  cfg: GPT2Config,
  length: number,
  ctx?: Ctx,
): { logits: Tensor; cache: KvCache } {
  const [B, T] = ids.shape as [number, number];
  const pass: Pass = { positions: positions(0, T), bias: causalBias(T, T), keep: true };
  const { logits, kv } = forward(params, ids, cfg, pass, ctx);
  const dh = cfg.nEmbd / cfg.nHead;
  const pad = (t: Tensor): Tensor =>
    length === T ? t : np.concatenate([t, np.zeros([B, cfg.nHead, length - T, dh])], 2); // [B, H, length, dh]
  return { logits, cache: { k: kv.k.map(pad), v: kv.v.map(pad) } };
}

/** The position-dependent inputs of one decode step. Owned. */
export function stepInputs(_cfg: GPT2Config, position: number, length: number): Record<string, Tensor> {
  const slot = new Float32Array(length);
  slot[position] = 1;
  return {
    positions: positions(position, 1),
    bias: causalBias(1, length, position),
    slot: np.array(slot).reshape([length, 1]),
  };
}

/** One token per sequence: ids [B, 1] → logits [B, 1, V] and the updated cache. Consumes everything. */
export function decodeStep(
  params: Params,
  cache: KvCache,
  ids: Tensor,
  inputs: Record<string, Tensor>,
  cfg: GPT2Config,
  ctx?: Ctx,
): { logits: Tensor; cache: KvCache } {
  const { positions: pos, bias, slot } = inputs as { positions: Tensor; bias: Tensor; slot: Tensor };
  const pass: Pass = { positions: pos, bias, cache: { kv: cache, slot }, keep: false };
  const { logits, kv } = forward(params, ids, cfg, pass, ctx);
  return { logits, cache: kv };
}
