// What causal-LM model files share: reading config.json fields with one sentence per bad field,
// and the tensor plan — each checkpoint tensor's file key, its param-tree path, its shape and its
// random init — from which loading checks names and shapes and `init` draws a fresh model.
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { getPath, isTensor, setPath, type Params } from "../core/tree.ts";
import { read, tensor, type Tensor } from "../engine/index.ts";

/** A float32 tensor on the host: `data` row-major in `shape`. */
export interface HostF32 {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Key/value cache of a decoder: per layer, k and v [B, Hkv, S, dh] for S = the decode length. */
export type KvCache = {
  k: Tensor[];
  v: Tensor[];
};

/** One checkpoint tensor: where it lives in the file and in the param tree, and how to draw it. */
export interface TensorSlot {
  /** Name in the checkpoint file. */
  readonly key: string;
  /** Param-tree path (the Hugging Face module path + ".weight"/".bias"). */
  readonly path: string;
  /** Shape in the param tree. */
  readonly shape: readonly number[];
  /** The file stores the 2-D transpose (GPT-2's Conv1D keeps weights [in, out]). */
  readonly transposed?: boolean;
  /** HF `_init_weights`: normal(0, std), or a constant (norm weights 1, biases 0). */
  readonly init: { readonly normal: number } | { readonly constant: number };
}

/** Reads config.json fields; every bad field is one UserError naming it and what is allowed. */
export class ConfigReader {
  constructor(
    private readonly json: Record<string, unknown>,
    private readonly source: string,
  ) {}

  private bad(name: string, want: string, got: unknown): UserError {
    return new UserError(`${this.source}: field "${name}" must be ${want}, got ${JSON.stringify(got)}`);
  }

  has(name: string): boolean {
    return this.json[name] !== undefined && this.json[name] !== null;
  }

  raw(name: string): unknown {
    return this.json[name];
  }

  /** A positive integer (`fallback` when absent or null; required when no fallback). */
  int(name: string, fallback?: number): number {
    const v = this.has(name) ? this.json[name] : fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) throw this.bad(name, "a positive integer", this.json[name]);
    return v;
  }

  /** A positive finite number. */
  num(name: string, fallback?: number): number {
    const v = this.has(name) ? this.json[name] : fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw this.bad(name, "a positive number", this.json[name]);
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.has(name) ? this.json[name] : fallback;
    if (typeof v !== "boolean") throw this.bad(name, "true or false", this.json[name]);
    return v;
  }

  /** One of `allowed` (the first is the default when absent). */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.has(name) ? this.json[name] : allowed[0];
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      throw this.bad(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, this.json[name]);
    }
    return v as T;
  }

  /** A field lorascope does not implement must hold its default value. */
  fixed(name: string, value: unknown): void {
    if (this.has(name) && this.json[name] !== value) {
      throw this.bad(name, `${JSON.stringify(value)} (the only value lorascope implements)`, this.json[name]);
    }
  }

  /** A field's value must satisfy a condition `want` describes. */
  require(cond: boolean, name: string, want: string): void {
    if (!cond) throw this.bad(name, want, this.json[name]);
  }

  /** `a` must divide `b`. */
  divides(aName: string, a: number, bName: string, b: number): void {
    if (b % a !== 0) throw new UserError(`${this.source}: "${bName}" (${b}) must be a multiple of "${aName}" (${a})`);
  }
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: readonly number[]): string => `[${s.join(", ")}]`;

function fileShape(s: TensorSlot): readonly number[] {
  return s.transposed === true ? [...s.shape].reverse() : s.shape;
}

function listed(items: string[]): string {
  return items.length <= 8 ? items.join(", ") : `${items.slice(0, 8).join(", ")} and ${items.length - 8} more`;
}

/**
 * Throw one UserError naming every missing, unexpected and mis-shaped tensor of a checkpoint
 * (`shapes`: file key → shape) against the plan; keys for which `ignorable` holds are skipped.
 */
export function checkTensors(
  slots: readonly TensorSlot[],
  shapes: ReadonlyMap<string, readonly number[]>,
  ignorable: (key: string) => boolean,
  source: string,
  model: string,
): void {
  const wanted = new Map(slots.map((s) => [s.key, s] as const));
  const missing = slots.filter((s) => !shapes.has(s.key)).map((s) => s.key);
  const unexpected = [...shapes.keys()].filter((k) => !wanted.has(k) && !ignorable(k));
  const misShaped: string[] = [];
  for (const s of slots) {
    const got = shapes.get(s.key);
    if (got !== undefined && !sameShape(got, fileShape(s))) misShaped.push(`${s.key} is ${fmt(got)}, expected ${fmt(fileShape(s))}`);
  }
  const parts = [
    missing.length > 0 ? `missing ${listed(missing)}` : "",
    unexpected.length > 0 ? `unexpected ${listed(unexpected)}` : "",
    misShaped.length > 0 ? `wrong shape: ${listed(misShaped)}` : "",
  ].filter((p) => p !== "");
  if (parts.length > 0) {
    throw new UserError(`${source} does not match its ${model} config.json (${parts.join("; ")}); check that the weights and config.json belong together`);
  }
}

/** [rows, cols] row-major → [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j] as number;
  return out;
}

/** The slot's param-tree values from the file's values (transposing Conv1D weights). */
export function slotValues(slot: TensorSlot, data: Float32Array): Float32Array {
  if (slot.transposed !== true) return data;
  const [out, inp] = slot.shape as [number, number];
  return transpose2d(data, inp, out); // file [in, out] → tree [out, in]
}

/** Params from host tensors keyed by file key (checked first). Owned device tensors. */
export function paramsFromTensors(
  slots: readonly TensorSlot[],
  tensors: ReadonlyMap<string, HostF32>,
  ignorable: (key: string) => boolean,
  source: string,
  model: string,
): Params {
  checkTensors(slots, new Map([...tensors].map(([k, t]) => [k, t.shape] as const)), ignorable, source, model);
  let params: Params = {};
  for (const s of slots) {
    const values = slotValues(s, (tensors.get(s.key) as HostF32).data);
    params = setPath(params, s.path, tensor(values, s.shape));
  }
  return params;
}

/** Fresh params as HF's `_init_weights` draws them; each tensor from fold(key, its path). Owned. */
export function initFromSlots(key: Key, slots: readonly TensorSlot[]): Params {
  let params: Params = {};
  for (const s of slots) {
    const n = s.shape.reduce((a, d) => a * d, 1);
    const data = "normal" in s.init ? prng.normal(prng.fold(key, s.path), s.shape, s.init.normal) : new Float32Array(n).fill(s.init.constant);
    params = setPath(params, s.path, tensor(data, s.shape));
  }
  return params;
}

/**
 * The checkpoint tensors of params (e.g. after merging an adapter), keyed and laid out as the file
 * wants them: Conv1D weights transposed back to [in, out]. Borrows `params`.
 */
export async function tensorsFromParams(slots: readonly TensorSlot[], params: Params): Promise<Map<string, HostF32>> {
  const out = new Map<string, HostF32>();
  for (const s of slots) {
    const t = getPath(params, s.path);
    if (t === undefined || !isTensor(t)) throw new Error(`params lack the tensor "${s.path}"`);
    const data = await read(t);
    const [rows, cols] = s.shape as [number, number];
    const host: HostF32 =
      s.transposed === true ? { shape: [cols, rows], data: transpose2d(data, rows, cols) } : { shape: s.shape, data };
    out.set(s.key, host);
  }
  return out;
}
