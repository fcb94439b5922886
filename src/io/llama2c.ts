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

/** The seven int32 of the header. */
export const LLAMA2C_HEADER_BYTES = 28;
const HEADER_BYTES = LLAMA2C_HEADER_BYTES;

/** The number of float32 values a legacy checkpoint with this header holds after the header. */
export function llama2cFloatCount(h: Llama2cHeader): number {
  const hd = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const perLayer = 2 * h.dim + 2 * h.dim * h.dim + 2 * kvDim * h.dim + 3 * h.hiddenDim * h.dim;
  return h.vocabSize * h.dim + h.nLayers * perLayer + h.dim + h.seqLen * hd + (h.tied ? 0 : h.vocabSize * h.dim);
}

/**
 * Parse and check the 7-int32 header at the start of `bytes` against the file's size (default: the
 * bytes are the whole file); `source` names the file in error messages.
 */
export function readLlama2cHeader(bytes: Uint8Array, source: string, fileSize = bytes.length): Llama2cHeader {
  const bad = (problem: string): UserError => new UserError(`${source} is not a llama2.c checkpoint: ${problem}`);
  if (fileSize < HEADER_BYTES) throw bad(`it is ${fileSize} bytes long, shorter than the 28-byte header`);
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
  if (fileSize !== expected) {
    throw bad(
      `its header (dim ${dim}, hidden ${hiddenDim}, ${nLayers} layers, ${nHeads} heads, ${nKvHeads} kv heads, vocab ${vocab}, ` +
        `seq ${seqLen}) needs ${expected} bytes but the file has ${fileSize}${fileSize < expected ? " (truncated?)" : ""}`,
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

/** The shape of a Llama, in the words of its config.json. */
export interface LlamaShape {
  readonly hidden: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly positions: number;
  readonly tied: boolean;
  readonly bos: number;
  readonly eos: number;
}

/**
 * A Llama config.json with what every model lorascope writes shares: no biases, SiLU, F32, and
 * run.c's constants — its rmsnorm adds 1e-5 and its RoPE uses 10000^(-2i/headDim) (neither is in a
 * llama2.c file; the models pretrained here use the same).
 */
export function llamaConfigJson(s: LlamaShape): LlamaConfigJson {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    vocab_size: s.vocabSize,
    max_position_embeddings: s.positions,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_parameters: { rope_type: "default", rope_theta: 10000 },
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: s.tied,
    bos_token_id: s.bos,
    eos_token_id: s.eos,
    torch_dtype: "float32",
  };
}

/** The config.json object of the converted checkpoint (bos/eos are llama2.c's fixed ids 1 and 2). */
export function llamaConfigFromHeader(h: Llama2cHeader): LlamaConfigJson {
  return llamaConfigJson({
    hidden: h.dim,
    intermediate: h.hiddenDim,
    layers: h.nLayers,
    heads: h.nHeads,
    kvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    vocabSize: h.vocabSize,
    positions: h.seqLen,
    tied: h.tied,
    bos: 1,
    eos: 2,
  });
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

/**
 * Where one HF tensor lies in a legacy checkpoint: `count` float32 values from float `offset` (counted
 * after the header), and for q/k projections the heads whose rows move from llama2.c's interleaved RoPE
 * layout to HF's halves. Every HF tensor is one contiguous range, so a reader can take one at a time.
 */
export interface Llama2cSlot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly permuteHeads?: number;
}

/** The HF tensors of a checkpoint with header `h`, in file order of the stacked arrays they come from. */
export function llama2cSlots(h: Llama2cHeader): Llama2cSlot[] {
  const hd = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const L = h.nLayers;
  const slots: Llama2cSlot[] = [];
  let at = 0;
  /** A stacked array [L, rows, cols] in file order: layer l of it becomes the tensor `name(l)`. */
  const stack = (rows: number, cols: number, name: (p: string) => string, permuteHeads?: number): void => {
    for (let l = 0; l < L; l++) {
      const shape = rows === 1 ? [cols] : [rows, cols];
      const offset = at + l * rows * cols;
      slots.push({ name: name(`model.layers.${l}.`), shape, offset, ...(permuteHeads === undefined ? {} : { permuteHeads }) });
    }
    at += L * rows * cols;
  };
  slots.push({ name: "model.embed_tokens.weight", shape: [h.vocabSize, h.dim], offset: at }); // [V, dim]
  at += h.vocabSize * h.dim;
  stack(1, h.dim, (p) => `${p}input_layernorm.weight`); // rms_att [L, dim]
  stack(h.dim, h.dim, (p) => `${p}self_attn.q_proj.weight`, h.nHeads); // wq [L, dim, dim]
  stack(kvDim, h.dim, (p) => `${p}self_attn.k_proj.weight`, h.nKvHeads); // wk [L, kvDim, dim]
  stack(kvDim, h.dim, (p) => `${p}self_attn.v_proj.weight`); // wv [L, kvDim, dim]
  stack(h.dim, h.dim, (p) => `${p}self_attn.o_proj.weight`); // wo [L, dim, dim]
  stack(1, h.dim, (p) => `${p}post_attention_layernorm.weight`); // rms_ffn [L, dim]
  stack(h.hiddenDim, h.dim, (p) => `${p}mlp.gate_proj.weight`); // w1 [L, hidden, dim]
  stack(h.dim, h.hiddenDim, (p) => `${p}mlp.down_proj.weight`); // w2 [L, dim, hidden]
  stack(h.hiddenDim, h.dim, (p) => `${p}mlp.up_proj.weight`); // w3 [L, hidden, dim]
  slots.push({ name: "model.norm.weight", shape: [h.dim], offset: at }); // rms_final [dim]
  at += h.dim;
  at += h.seqLen * hd; // freq_cis_real and freq_cis_imag [seq_len, hd/2] each: recomputed by every reader
  if (!h.tied) slots.push({ name: "lm_head.weight", shape: [h.vocabSize, h.dim], offset: at }); // wcls [V, dim]
  return slots;
}

/** A slot's values as read from the file → the HF tensor's values (q/k rows reordered). */
export function llama2cSlotData(slot: Llama2cSlot, h: Llama2cHeader, raw: Float32Array): Float32Array {
  if (slot.permuteHeads === undefined) return raw;
  return interleavedToHalves(raw, slot.permuteHeads, h.dim / h.nHeads, slot.shape[1] as number);
}

/** Values in a slot. */
export const slotCount = (slot: Llama2cSlot): number => slot.shape.reduce((a, d) => a * d, 1);

/** Read a legacy llama2.c checkpoint held in memory into HF names and layout; `source` names the file in errors. */
export function readLlama2cCheckpoint(bytes: Uint8Array, source: string): Llama2cModel {
  const h = readLlama2cHeader(bytes, source);
  const slots = new Map(llama2cSlots(h).map((slot) => [slot.name, slot] as const));
  const config = llamaConfigFromHeader(h);
  const tensors = new Map<string, HostF32>();
  for (const name of llamaTensorNames(config)) {
    const slot = slots.get(name) as Llama2cSlot;
    // Copied out so the floats are aligned whatever the Buffer's offset; little-endian as llama2.c writes.
    const start = HEADER_BYTES + 4 * slot.offset;
    const raw = new Float32Array(new Uint8Array(bytes.subarray(start, start + 4 * slotCount(slot))).buffer);
    tensors.set(name, { shape: [...slot.shape], data: llama2cSlotData(slot, h, raw) });
  }
  return { header: h, config, tensors };
}
