// The safetensors format: u64 little-endian header length N, N bytes of JSON header, then one byte
// buffer that the tensors tile exactly. Pinned source: huggingface/safetensors@24b0b28
// README.md "Format" and safetensors/src/tensor.rs (`validate`, `MAX_HEADER_SIZE`, `prepare`);
// summarized in the safetensors format (huggingface/safetensors README, "Format"). Tensors stay on
// the host here ({dtype, shape, data}); turning them into engine tensors is the caller's business.
import { readFile } from "node:fs/promises";
import { UserError } from "../core/errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from "./half.ts";

/** The dtypes lorascope reads. F16 and BF16 are widened to Float32Array on reading. */
export const READ_DTYPES = ["F32", "F16", "BF16", "F64", "I32", "I64", "U8", "BOOL"] as const;
export type Dtype = (typeof READ_DTYPES)[number];
/** The dtypes lorascope writes (from Float32Array data). */
export const WRITE_DTYPES = ["F32", "F16", "BF16"] as const;
export type WriteDtype = (typeof WRITE_DTYPES)[number];

/** Every dtype name of the format (tensor.rs `enum Dtype`), to tell "unsupported" from "unknown". */
const FORMAT_DTYPES = new Set([
  "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
  "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
]);

const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1, BOOL: 1 };

/** The reference reader's cap on the header (tensor.rs `MAX_HEADER_SIZE`). */
export const MAX_HEADER_BYTES = 100_000_000;

export type HostTensor =
  | { readonly dtype: "F32" | "F16" | "BF16"; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: "F64"; readonly shape: readonly number[]; readonly data: Float64Array }
  | { readonly dtype: "I32"; readonly shape: readonly number[]; readonly data: Int32Array }
  | { readonly dtype: "I64"; readonly shape: readonly number[]; readonly data: BigInt64Array }
  | { readonly dtype: "U8" | "BOOL"; readonly shape: readonly number[]; readonly data: Uint8Array };

export interface SafetensorsContents {
  /** Tensors by name, in the order of their data in the file. */
  readonly tensors: Map<string, HostTensor>;
  /** The `__metadata__` string map ({} when absent). */
  readonly metadata: Record<string, string>;
}

/** A tensor to write: float32 values, stored as `dtype` (default: the file's dtype). */
export interface WriteTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  readonly dtype?: WriteDtype;
}

export interface WriteOptions {
  /** Storage dtype for tensors that do not name one (default F32). */
  readonly dtype?: WriteDtype;
  readonly metadata?: Readonly<Record<string, string>>;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/** One tensor's header entry; `begin`/`end` are byte offsets into the data section. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated header: the metadata and every tensor's entry, sorted by data offset. */
export interface SafetensorsHeader {
  readonly metadata: Record<string, string>;
  readonly entries: SafetensorsEntry[];
  /** Byte position of the data section in the file: 8 + header length. */
  readonly dataStart: number;
}

const invalid = (source: string, problem: string): UserError =>
  new UserError(`${source} is not a valid safetensors file: ${problem}`);

/** The header length from the file's first 8 bytes, checked against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || first8.length < 8) {
    throw invalid(source, `it is ${fileSize} bytes long, shorter than the 8-byte header length`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw invalid(source, `the header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) {
    throw invalid(source, `the header length ${headerLen} runs past the end of the ${fileSize}-byte file (truncated?)`);
  }
  return headerLen;
}

/**
 * Parse and validate the JSON header (`headerBytes`, without the 8-byte length) of a file whose data
 * section is `dataLen` bytes: dtypes, shapes, offsets in range, sizes matching shapes, and tensors
 * tiling the data section exactly. `source` names the file in error messages.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLen: number, source: string): SafetensorsHeader {
  const bad = (problem: string): UserError => invalid(source, problem);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw bad("the header is not UTF-8 text");
  }
  if (!text.startsWith("{")) throw bad("the header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw bad(`the header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(header)) throw bad("the header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isRecord(value)) throw bad("__metadata__ is not an object of strings");
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw bad(`__metadata__ entry "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(value)) throw bad(`the entry for tensor "${name}" is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== "string" || !(READ_DTYPES as readonly string[]).includes(dtype)) {
      const known = typeof dtype === "string" && FORMAT_DTYPES.has(dtype);
      throw bad(
        `tensor "${name}" has ${known ? "unsupported" : "unknown"} dtype ${JSON.stringify(dtype)} ` +
          `(lorascope reads ${READ_DTYPES.join(", ")})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw bad(`tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    }
    const pair: readonly unknown[] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
    const [begin, end] = pair;
    if (!isCount(begin) || !isCount(end) || begin > end) {
      throw bad(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with begin <= end`);
    }
    entries.push({ name, dtype: dtype as Dtype, shape, begin, end });
  }

  for (const e of entries) {
    if (e.end > dataLen) {
      throw bad(
        `tensor "${e.name}" has data_offsets [${e.begin}, ${e.end}] past the end of the ${dataLen}-byte data section (truncated?)`,
      );
    }
    const expected = numel(e.shape) * BYTES[e.dtype];
    if (e.end - e.begin !== expected) {
      throw bad(
        `tensor "${e.name}" is ${e.dtype} with shape [${e.shape.join(", ")}], which needs ${expected} bytes, ` +
          `but its data_offsets span ${e.end - e.begin}`,
      );
    }
  }
  // The tensors must tile the data section: sorted by offset, each begins where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw bad(`tensors "${prev?.name ?? ""}" and "${e.name}" overlap at data offset ${e.begin}`);
    }
    if (e.begin > cursor) throw bad(`bytes ${cursor}..${e.begin} of the data section belong to no tensor`);
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLen) throw bad(`bytes ${cursor}..${dataLen} of the data section belong to no tensor`);
  return { metadata, entries, dataStart: 8 + headerBytes.length };
}

/** Parse and validate safetensors bytes. `source` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  const headerLen = headerLength(bytes.subarray(0, 8), bytes.length, source);
  const { metadata, entries, dataStart } = parseSafetensorsHeader(
    bytes.subarray(8, 8 + headerLen),
    bytes.length - 8 - headerLen,
    source,
  );
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) tensors.set(e.name, decodeTensor(bytes.subarray(dataStart + e.begin, dataStart + e.end), e));
  return { tensors, metadata };
}

/** Decode one tensor from exactly its bytes (`bytes.length` = its data size; any alignment). */
export function decodeTensor(bytes: Uint8Array, e: Pick<SafetensorsEntry, "dtype" | "shape">): HostTensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = 0;
  const count = numel(e.shape);
  const shape = e.shape;
  switch (e.dtype) {
    case "F32":
    case "F16":
    case "BF16": {
      const out = new Float32Array(count);
      if (e.dtype === "F32") for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, true);
      else if (e.dtype === "F16") for (let i = 0; i < count; i++) out[i] = f16BitsToF32(view.getUint16(at + 2 * i, true));
      else for (let i = 0; i < count; i++) out[i] = bf16BitsToF32(view.getUint16(at + 2 * i, true));
      return { dtype: e.dtype, shape, data: out };
    }
    case "F64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, true);
      return { dtype: e.dtype, shape, data: out };
    }
    case "I32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, true);
      return { dtype: e.dtype, shape, data: out };
    }
    case "I64": {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(at + 8 * i, true);
      return { dtype: e.dtype, shape, data: out };
    }
    case "U8":
    case "BOOL":
      return { dtype: e.dtype, shape, data: bytes.slice(0, count) };
    default: {
      const never: never = e.dtype;
      throw new Error(`unhandled dtype ${String(never)}`);
    }
  }
}

/** A tensor's place in a file to write: its header entry and the data section's bytes [begin, end). */
export interface LaidOutTensor {
  readonly name: string;
  readonly dtype: WriteDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsLayout {
  /** The 8-byte length and the padded JSON header: the file's first `header.length` bytes. */
  readonly header: Uint8Array;
  /** The tensors in data order. */
  readonly tensors: readonly LaidOutTensor[];
  /** Bytes of the data section. */
  readonly dataBytes: number;
}

/**
 * Where each tensor goes, before any data exists. Like the reference writer: header padded with spaces
 * to a multiple of 8 bytes, data ordered by dtype size (largest first) and then by name, so every
 * tensor stays aligned.
 */
export function safetensorsLayout(
  tensors: Iterable<{ readonly name: string; readonly shape: readonly number[]; readonly dtype?: WriteDtype }>,
  opts: WriteOptions = {},
): SafetensorsLayout {
  const fileDtype = opts.dtype ?? "F32";
  const items = [...tensors].map(({ name, shape, dtype = fileDtype }) => {
    if (!(WRITE_DTYPES as readonly string[]).includes(dtype)) {
      throw new UserError(`cannot write dtype ${String(dtype)}; lorascope writes ${WRITE_DTYPES.join(", ")}`);
    }
    if (!shape.every(isCount)) throw new Error(`tensor "${name}": shape [${String(shape)}] is not a list of counts`);
    return { name, dtype, shape };
  });
  if (new Set(items.map((i) => i.name)).size !== items.length) throw new Error("duplicate tensor names");
  items.sort((a, b) => BYTES[b.dtype] - BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (opts.metadata !== undefined) header["__metadata__"] = { ...opts.metadata };
  const laid: LaidOutTensor[] = [];
  let offset = 0;
  for (const { name, dtype, shape } of items) {
    const size = numel(shape) * BYTES[dtype];
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + size] };
    laid.push({ name, dtype, shape, begin: offset, end: offset + size });
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return { header: out, tensors: laid, dataBytes: offset };
}

/** Store float32 `data` as `dtype` (little-endian) into `view` from byte `at`. */
export function storeTensor(view: DataView, at: number, data: Float32Array, dtype: WriteDtype): void {
  if (dtype === "F32") for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i] as number, true);
  else if (dtype === "F16") for (let i = 0; i < data.length; i++) view.setUint16(at + 2 * i, f32ToF16Bits(data[i] as number), true);
  else for (let i = 0; i < data.length; i++) view.setUint16(at + 2 * i, f32ToBf16Bits(data[i] as number), true);
}

/** Serialize tensors (the layout of `safetensorsLayout`). */
export function encodeSafetensors(
  tensors: Iterable<readonly [string, WriteTensor]>,
  opts: WriteOptions = {},
): Uint8Array {
  const byName = new Map<string, WriteTensor>();
  for (const [name, t] of tensors) {
    if (byName.has(name)) throw new Error("duplicate tensor names");
    if (numel(t.shape) !== t.data.length) {
      throw new Error(`tensor "${name}": ${t.data.length} values do not fill shape [${t.shape.join(", ")}]`);
    }
    byName.set(name, t);
  }
  const layout = safetensorsLayout(
    [...byName].map(([name, t]) => ({ name, shape: t.shape, ...(t.dtype === undefined ? {} : { dtype: t.dtype }) })),
    opts,
  );
  const out = new Uint8Array(layout.header.length + layout.dataBytes);
  out.set(layout.header);
  const view = new DataView(out.buffer);
  for (const e of layout.tensors) {
    storeTensor(view, layout.header.length + e.begin, (byName.get(e.name) as WriteTensor).data, e.dtype);
  }
  return out;
}

/** Read and validate a safetensors file; a missing or unreadable file is a UserError naming it. */
export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`,
    );
  }
  return decodeSafetensors(bytes, file);
}

/** Write a safetensors file atomically (a temporary file renamed into place). */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<readonly [string, WriteTensor]>,
  opts: WriteOptions = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, opts));
}
