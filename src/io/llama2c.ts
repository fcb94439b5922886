// llama2.c checkpoints (Karpathy's run.c "legacy" export, version 0) read into what a Hugging Face
// Llama folder holds: a config.json object and float32 tensors under HF names, [out, in] layout.
//
// File layout (llama2.c export.py `legacy_export`, read by run.c `memory_map_weights`): seven int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means
// the classifier is stored separately, i.e. untied), then float32 arrays in this order:
//   token_embedding [V, dim]; rms_att [L, dim]; wq [L, dim, dim]; wk [L, kvDim, dim];
//   wv [L, kvDim, dim]; wo [L, dim, dim]; rms_ffn [L, dim]; w1 [L, hidden, dim];
//   w2 [L, dim, hidden]; w3 [L, hidden, dim]; rms_final [dim];
//   freq_cis_real, freq_cis_imag [seq_len, headDim/2] each (legacy RoPE tables, unused);
//   wcls [V, dim] only when untied.
// with kvDim = n_kv_heads · headDim and headDim = dim / n_heads. w1/w2/w3 are HF's gate/down/up_proj.
import { UserError } from "../core/errors.ts";
import type { HostF32 } from "../models/lm-tensors.ts";

/**
 * The config.json object a converted llama2.c checkpoint is written with (the file's own field names);
 * models/llama.ts `parseConfig` reads it into the model's `LlamaConfig`.
 */
export interface LlamaConfigJson {
  readonly architectures: readonly string[];
  readonly model_type: "llama";
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim: number;
  readonly vocab_size: number;
  readonly max_position_embeddings: number;
  readonly rms_norm_eps: number;
  readonly rope_theta: number;
  /** transformers 5 reads RoPE settings from here; older versions read the top-level rope_theta. */
  readonly rope_parameters: { readonly rope_type: "default"; readonly rope_theta: number };
  readonly hidden_act: "silu";
  readonly attention_bias: false;
  readonly mlp_bias: false;
  readonly tie_word_embeddings: boolean;
  readonly bos_token_id: number;
  readonly eos_token_id: number;
  readonly torch_dtype: "float32";
}

export interface Llama2cHeader {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
  /** True when the header's vocab_size is positive: the classifier is the token embedding. */
  readonly tied: boolean;
}

export interface Llama2cModel {
  readonly header: Llama2cHeader;
  readonly config: LlamaConfigJson;
  /** HF parameter name → tensor, in the order of `llamaTensorNames(config)`. */
  readonly tensors: ReadonlyMap<string, HostF32>;
}

const HEADER_BYTES = 28;

/** The number of float32 values a legacy checkpoint with this header holds after the header. */
export function llama2cFloatCount(h: Llama2cHeader): number {
  const hd = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const perLayer = 2 * h.dim + 2 * h.dim * h.dim + 2 * kvDim * h.dim + 3 * h.hiddenDim * h.dim;
  return h.vocabSize * h.dim + h.nLayers * perLayer + h.dim + h.seqLen * hd + (h.tied ? 0 : h.vocabSize * h.dim);
}

/** Parse and check the 7-int32 header; `source` names the file in error messages. */
export function readLlama2cHeader(bytes: Uint8Array, source: string): Llama2cHeader {
  const bad = (problem: string): UserError => new UserError(`${source} is not a llama2.c checkpoint: ${problem}`);
  if (bytes.length < HEADER_BYTES) throw bad(`it is ${bytes.length} bytes long, shorter than the 28-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // llama2.c's versioned exports start with the magic "ak42" (0x616b3432); only the legacy layout is read.
  if (view.getUint32(0, true) === 0x616b3432) {
    throw bad(`it is a versioned export (version ${view.getInt32(4, true)}); lorascope reads the legacy (version 0) layout that run.c reads`);
  }
  const header = Array.from({ length: 7 }, (_, i) => view.getInt32(4 * i, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = header as [
    number, number, number, number, number, number, number,
  ];
  const fields = {
    dim,
    hidden_dim: hiddenDim,
    n_layers: nLayers,
    n_heads: nHeads,
    n_kv_heads: nKvHeads,
    seq_len: seqLen,
  };
  for (const [k, v] of Object.entries(fields)) if (!(v > 0)) throw bad(`its header has ${k} = ${v}, not a positive integer`);
  if (vocab === 0) throw bad("its header has vocab_size = 0");
  if (dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) {
    throw bad(`its header has dim ${dim} and n_heads ${nHeads}; the head size dim / n_heads must be an even integer`);
  }
  if (nHeads % nKvHeads !== 0) throw bad(`its header has n_heads ${nHeads}, not a multiple of n_kv_heads ${nKvHeads}`);
  const h: Llama2cHeader = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(vocab),
    seqLen,
    tied: vocab > 0,
  };
  const expected = HEADER_BYTES + 4 * llama2cFloatCount(h);
  if (bytes.length !== expected) {
    throw bad(
      `its header (dim ${dim}, hidden ${hiddenDim}, ${nLayers} layers, ${nHeads} heads, ${nKvHeads} kv heads, vocab ${vocab}, ` +
        `seq ${seqLen}) needs ${expected} bytes but the file has ${bytes.length}${bytes.length < expected ? " (truncated?)" : ""}`,
    );
  }
  return h;
}

/**
 * Reorder the rows of a query or key projection [nHeads·headDim, cols] from llama2.c's RoPE layout to
 * Hugging Face's. llama2.c rotates interleaved pairs (row 2i, row 2i+1) of each head by angle
 * pos·θ^(-2i/headDim); HF's `rotate_half` rotates (row i, row i + headDim/2) by the same angle. So within
 * each head h, with half = headDim/2, i < half and j ∈ {0, 1}:
 *
 *   out[h·headDim + j·half + i] = in[h·headDim + 2i + j]
 *
 * The rotated pairs keep their angle, only their position in the head changes; q and k are permuted
 * alike, so q·k (and the attention) is unchanged. This is the `permute` of transformers'
 * convert_llama_weights_to_hf.py (w.view(nHeads, half, 2, cols).transpose(1, 2)); llama2.c's export.py
 * `permute_reverse` is its inverse (HF → llama2.c).
 */
export function interleavedToHalves(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  if (w.length !== nHeads * headDim * cols || headDim % 2 !== 0) {
    throw new Error(`cannot permute ${w.length} values as [${nHeads}·${headDim}, ${cols}] with an even head size`);
  }
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * headDim + 2 * i + j) * cols;
        const dst = (h * headDim + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** The config.json object of the converted checkpoint (bos/eos are llama2.c's fixed ids 1 and 2). */
export function llamaConfigFromHeader(h: Llama2cHeader): LlamaConfigJson {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: h.dim,
    intermediate_size: h.hiddenDim,
    num_hidden_layers: h.nLayers,
    num_attention_heads: h.nHeads,
    num_key_value_heads: h.nKvHeads,
    head_dim: h.dim / h.nHeads,
    vocab_size: h.vocabSize,
    max_position_embeddings: h.seqLen,
    // run.c's rmsnorm adds 1e-5 and its RoPE uses 10000^(-2i/headDim); neither is in the file.
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_parameters: { rope_type: "default", rope_theta: 10000 },
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: h.tied,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: "float32",
  };
}

/** HF tensor names of a Llama model, in file order of a llama2.c checkpoint's layers. */
export function llamaTensorNames(c: Pick<LlamaConfigJson, "num_hidden_layers" | "tie_word_embeddings">): string[] {
  const names = ["model.embed_tokens.weight"];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    names.push(
      `${p}input_layernorm.weight`,
      `${p}self_attn.q_proj.weight`,
      `${p}self_attn.k_proj.weight`,
      `${p}self_attn.v_proj.weight`,
      `${p}self_attn.o_proj.weight`,
      `${p}post_attention_layernorm.weight`,
      `${p}mlp.gate_proj.weight`,
      `${p}mlp.down_proj.weight`,
      `${p}mlp.up_proj.weight`,
    );
  }
  names.push("model.norm.weight");
  if (!c.tie_word_embeddings) names.push("lm_head.weight");
  return names;
}

/** Read a legacy llama2.c checkpoint into HF names and layout; `source` names the file in errors. */
export function readLlama2cCheckpoint(bytes: Uint8Array, source: string): Llama2cModel {
  const h = readLlama2cHeader(bytes, source);
  // Copy once so the floats are aligned whatever the Buffer's offset; little-endian as llama2.c writes.
  const floats = new Float32Array(new Uint8Array(bytes.subarray(HEADER_BYTES)).buffer);
  let at = 0;
  const take = (count: number): Float32Array => floats.subarray(at, (at += count));
  const hd = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const L = h.nLayers;

  // Stacked per-layer arrays in file order; each [L, rows, cols] is split into L tensors below.
  const embed = take(h.vocabSize * h.dim); // [V, dim]
  const rmsAtt = take(L * h.dim); // [L, dim]
  const wq = take(L * h.dim * h.dim); // [L, dim, dim]
  const wk = take(L * kvDim * h.dim); // [L, kvDim, dim]
  const wv = take(L * kvDim * h.dim); // [L, kvDim, dim]
  const wo = take(L * h.dim * h.dim); // [L, dim, dim]
  const rmsFfn = take(L * h.dim); // [L, dim]
  const w1 = take(L * h.hiddenDim * h.dim); // [L, hidden, dim]
  const w2 = take(L * h.dim * h.hiddenDim); // [L, dim, hidden]
  const w3 = take(L * h.hiddenDim * h.dim); // [L, hidden, dim]
  const rmsFinal = take(h.dim); // [dim]
  take(h.seqLen * hd); // freq_cis_real and freq_cis_imag [seq_len, hd/2] each: recomputed by every reader
  const wcls = h.tied ? undefined : take(h.vocabSize * h.dim); // [V, dim]

  const layer = (stack: Float32Array, l: number, rows: number, cols: number): Float32Array =>
    stack.slice(l * rows * cols, (l + 1) * rows * cols);
  const tensors = new Map<string, HostF32>();
  tensors.set("model.embed_tokens.weight", { shape: [h.vocabSize, h.dim], data: embed.slice() });
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    tensors.set(`${p}input_layernorm.weight`, { shape: [h.dim], data: layer(rmsAtt, l, 1, h.dim) });
    tensors.set(`${p}self_attn.q_proj.weight`, {
      shape: [h.dim, h.dim],
      data: interleavedToHalves(layer(wq, l, h.dim, h.dim), h.nHeads, hd, h.dim),
    });
    tensors.set(`${p}self_attn.k_proj.weight`, {
      shape: [kvDim, h.dim],
      data: interleavedToHalves(layer(wk, l, kvDim, h.dim), h.nKvHeads, hd, h.dim),
    });
    tensors.set(`${p}self_attn.v_proj.weight`, { shape: [kvDim, h.dim], data: layer(wv, l, kvDim, h.dim) });
    tensors.set(`${p}self_attn.o_proj.weight`, { shape: [h.dim, h.dim], data: layer(wo, l, h.dim, h.dim) });
    tensors.set(`${p}post_attention_layernorm.weight`, { shape: [h.dim], data: layer(rmsFfn, l, 1, h.dim) });
    tensors.set(`${p}mlp.gate_proj.weight`, { shape: [h.hiddenDim, h.dim], data: layer(w1, l, h.hiddenDim, h.dim) });
    tensors.set(`${p}mlp.down_proj.weight`, { shape: [h.dim, h.hiddenDim], data: layer(w2, l, h.dim, h.hiddenDim) });
    tensors.set(`${p}mlp.up_proj.weight`, { shape: [h.hiddenDim, h.dim], data: layer(w3, l, h.hiddenDim, h.dim) });
  }
  tensors.set("model.norm.weight", { shape: [h.dim], data: rmsFinal.slice() });
  if (wcls !== undefined) tensors.set("lm_head.weight", { shape: [h.vocabSize, h.dim], data: wcls.slice() });
  return { header: h, config: llamaConfigFromHeader(h), tensors };
}
