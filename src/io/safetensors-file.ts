// A safetensors file read by offset: the header is read and validated on open (the same checks as
// decodeSafetensors), then each tensor's byte range is read with one positioned `read` when asked
// for. The file is never held whole in memory, so memory follows the tensors in use, and files
// over 2 GiB (Node's largest Buffer) work. Written the same way: the header first (every shape is
// known before any data), then each tensor at its offset as it is produced.
import { open, unlink, type FileHandle } from "node:fs/promises";
import { openSized, readExactly, writeExactly } from "./positioned.ts";
import { endianness } from "node:os";
import { UserError } from "../core/errors.ts";
import { bf16BitsToF32, f16BitsToF32 } from "./half.ts";
import {
  decodeTensor,
  headerLength,
  parseSafetensorsHeader,
  safetensorsLayout,
  storeTensor,
  type HostTensor,
  type SafetensorsEntry,
  type WriteDtype,
  type WriteOptions,
} from "./safetensors.ts";

export interface SafetensorsFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  /** Header entries by tensor name, in data order. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** One tensor, decoded as its dtype (F16/BF16 widened to float32). */
  read(name: string): Promise<HostTensor>;
  /** One floating-point tensor as float32 (F32, F16, BF16 or F64); other dtypes are a UserError. */
  readF32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

function cannotRead(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UserError(code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
}

/** Fill `into` from `position`, or throw naming the file when it ends first. */
function readAll(fh: FileHandle, file: string, into: Uint8Array, position: number): Promise<void> {
  return readExactly(fh, into, position, (at) =>
    new UserError(`${file} is not a valid safetensors file: it ended at byte ${at} while ${into.length} bytes were read from byte ${position} (truncated while open?)`),
  );
}

const LITTLE_ENDIAN = endianness() === "LE";

/** Open and validate a safetensors file; a missing or unreadable file is a UserError naming it. */
export async function openSafetensors(file: string): Promise<SafetensorsFile> {
  const { fh, size } = await openSized(file, (err) => cannotRead(file, err));
  try {
    const first8 = new Uint8Array(Math.min(8, size));
    await readAll(fh, file, first8, 0);
    const headerLen = headerLength(first8, size, file);
    const headerBytes = new Uint8Array(headerLen);
    await readAll(fh, file, headerBytes, 8);
    const header = parseSafetensorsHeader(headerBytes, size - 8 - headerLen, file);
    const entries = new Map(header.entries.map((e) => [e.name, e] as const));
    const entryOf = (name: string): SafetensorsEntry => {
      const e = entries.get(name);
      if (e === undefined) throw new UserError(`${file} has no tensor "${name}"`);
      return e;
    };
    const at = (e: SafetensorsEntry): number => header.dataStart + e.begin;
    const read = async (name: string): Promise<HostTensor> => {
      const e = entryOf(name);
      const bytes = new Uint8Array(e.end - e.begin);
      await readAll(fh, file, bytes, at(e));
      return decodeTensor(bytes, e);
    };
    return {
      file,
      metadata: header.metadata,
      entries,
      read,
      async readF32(name) {
        const e = entryOf(name);
        const n = e.shape.reduce((a, d) => a * d, 1);
        if (LITTLE_ENDIAN && e.dtype === "F32") {
          // Read straight into the result's buffer: one copy of the data, no decode loop.
          const out = new Float32Array(n);
          await readAll(fh, file, new Uint8Array(out.buffer), at(e));
          return out;
        }
        if (LITTLE_ENDIAN && (e.dtype === "F16" || e.dtype === "BF16")) {
          const bits = new Uint16Array(n);
          await readAll(fh, file, new Uint8Array(bits.buffer), at(e));
          const out = new Float32Array(n);
          const widen = e.dtype === "F16" ? f16BitsToF32 : bf16BitsToF32;
          for (let i = 0; i < n; i++) out[i] = widen(bits[i] as number);
          return out;
        }
        const t = await read(name);
        if (t.dtype === "F32" || t.dtype === "F16" || t.dtype === "BF16") return t.data;
        if (t.dtype === "F64") return Float32Array.from(t.data);
        throw new UserError(`${file}: tensor "${name}" is ${t.dtype}, not a floating-point tensor`);
      },
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Write a new safetensors file at `file` one tensor at a time: `tensors` gives every name and shape up
 * front (for the header), `dataOf(name)` each tensor's float32 values when its turn comes, so memory
 * holds one tensor rather than the file. The file is flushed to disk; on failure it is removed.
 */
export async function writeSafetensorsByTensor(
  file: string,
  tensors: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[]; readonly dtype?: WriteDtype }>,
  dataOf: (name: string) => Promise<Float32Array>,
  opts: WriteOptions = {},
): Promise<void> {
  const layout = safetensorsLayout(tensors, opts);
  const fh = await open(file, "wx");
  try {
    await writeExactly(fh, layout.header, 0);
    for (const e of layout.tensors) {
      const data = await dataOf(e.name);
      const count = e.shape.reduce((a, d) => a * d, 1);
      if (data.length !== count) throw new Error(`tensor "${e.name}": ${data.length} values do not fill shape [${e.shape.join(", ")}]`);
      const bytes = new Uint8Array(e.end - e.begin);
      storeTensor(new DataView(bytes.buffer), 0, data, e.dtype);
      await writeExactly(fh, bytes, layout.header.length + e.begin);
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(file).catch(() => undefined);
    throw err;
  }
  await fh.close();
}
