// Reading a TF.js model's weights without TF.js: `model.json` lists weight groups, each group is a
// byte stream split over shard files, and each entry `{name, shape, dtype, quantization?}` occupies
// the next bytes of its group's stream. Format: tfjs-core src/io/types.ts (`WeightsManifestConfig`,
// `WeightsManifestEntry`) and src/io/io_utils.ts (`decodeWeights`), tfjs 4.22.
import { UserError } from "../../core/errors.ts";

/** A tensor held on the host, row-major. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  /** Present on quantized weights: stored as `dtype` here, dequantized to the entry's dtype. */
  readonly quantization?: { readonly dtype: string; readonly scale?: number; readonly min?: number };
}

export interface ManifestGroup {
  readonly paths: readonly string[];
  readonly weights: readonly ManifestEntry[];
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes per stored element (tfjs-core io_utils.ts `DTYPE_VALUE_SIZE_MAP`, quantized sizes). */
function storedBytes(e: ManifestEntry): number {
  const stored = e.quantization?.dtype ?? e.dtype;
  switch (stored) {
    case "float32":
    case "int32":
      return 4;
    case "uint16":
    case "float16":
      return 2;
    case "uint8":
    case "bool":
      return 1;
    default:
      throw new UserError(
        `weight ${e.name} has dtype ${stored}; only float32, int32, bool, uint8, uint16 and float16 are supported`,
      );
  }
}

/** IEEE half → float (tfjs io_utils.ts `getFloat16Decoder` does the same with lookup tables). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decode one entry from `bytes` (exactly its stored bytes). */
function decodeEntry(e: ManifestEntry, bytes: Uint8Array): HostTensor {
  const n = count(e.shape);
  // Copy to an aligned buffer: an entry's offset in the stream need not be a multiple of 4.
  const own = bytes.slice().buffer;
  const q = e.quantization;
  if (q === undefined) {
    if (e.dtype === "float32") return { shape: e.shape, data: new Float32Array(own, 0, n) };
    if (e.dtype === "int32") return { shape: e.shape, data: new Int32Array(own, 0, n) };
    if (e.dtype === "bool") return { shape: e.shape, data: Int32Array.from(new Uint8Array(own, 0, n)) };
    throw new UserError(`weight ${e.name} has dtype ${e.dtype}, which this reader does not decode`);
  }
  let values: Float32Array;
  if (q.dtype === "float16") {
    const half = new Uint16Array(own, 0, n);
    values = Float32Array.from(half, halfToFloat);
  } else if (q.dtype === "uint8" || q.dtype === "uint16") {
    // Affine quantization: value = q·scale + min (io_utils.ts, `decodeWeight`).
    const raw = q.dtype === "uint8" ? new Uint8Array(own, 0, n) : new Uint16Array(own, 0, n);
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    values = Float32Array.from(raw, (v) => v * scale + min);
  } else {
    throw new UserError(`weight ${e.name} uses quantization dtype ${q.dtype}; allowed: uint8, uint16, float16`);
  }
  return e.dtype === "int32"
    ? { shape: e.shape, data: Int32Array.from(values, Math.round) }
    : { shape: e.shape, data: values };
}

/**
 * Slice every weight of every group out of its shards. `readShard(path)` returns a shard's bytes
 * (the caller checksums them). Throws when a group's shards are shorter or longer than its entries.
 */
export function decodeWeights(
  manifest: readonly ManifestGroup[],
  readShard: (path: string) => Uint8Array,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const group of manifest) {
    const shards = group.paths.map(readShard);
    const total = shards.reduce((a, s) => a + s.length, 0);
    const stream = new Uint8Array(total);
    let at = 0;
    for (const s of shards) {
      stream.set(s, at);
      at += s.length;
    }
    let offset = 0;
    for (const e of group.weights) {
      const size = count(e.shape) * storedBytes(e);
      if (offset + size > total) {
        throw new UserError(
          `weight ${e.name} runs past the end of its shards (${total} bytes): the model files are truncated`,
        );
      }
      if (out.has(e.name)) throw new UserError(`weight ${e.name} appears twice in the manifest`);
      out.set(e.name, decodeEntry(e, stream.subarray(offset, offset + size)));
      offset += size;
    }
    if (offset !== total) {
      throw new UserError(
        `the shards ${group.paths.join(", ")} hold ${total} bytes but the manifest describes ${offset}`,
      );
    }
  }
  return out;
}
