// Moving data between JavaScript and the engine. Ownership (ownership.ts): `read` and `readScalar`
// borrow their argument (the caller still owns it); `readAndDispose` consumes it, for a temporary
// read once; `tensor`/`zeros`/`full`/`scalar` return a new owned tensor.
import { np, type Tensor } from "./jax.ts";

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A new float32 tensor holding a copy of `data`, shaped `shape`. */
export function tensor(data: Float32Array | readonly number[], shape: Shape): Tensor {
  const buf = data instanceof Float32Array ? data : Float32Array.from(data);
  if (buf.length !== numel(shape)) {
    throw new Error(`tensor(): ${buf.length} values do not fill shape [${shape.join(", ")}]`);
  }
  return np.array(buf).reshape([...shape]);
}

export function zeros(shape: Shape): Tensor {
  return np.zeros([...shape]);
}

export function full(shape: Shape, value: number): Tensor {
  return np.full([...shape], value);
}

export function scalar(value: number): Tensor {
  return np.array(value);
}

/** Copy a tensor's values to the host as float32 without consuming it. */
export async function read(t: Tensor): Promise<Float32Array> {
  const data = await t.ref.astype(np.float32).data();
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/** Copy a tensor's values to the host and release it: `read` for a temporary. Consumes `t`. */
export async function readAndDispose(t: Tensor): Promise<Float32Array> {
  try {
    return await read(t);
  } finally {
    t.dispose();
  }
}

/** Read a scalar (or the single element of a one-element tensor) without consuming it. */
export async function readScalar(t: Tensor): Promise<number> {
  const data = await read(t);
  if (data.length !== 1) throw new Error(`readScalar(): tensor has ${data.length} elements`);
  return data[0] as number;
}

/** Shape of a tensor, as a plain array (does not consume it). */
export function shapeOf(t: Tensor): number[] {
  return [...t.shape];
}
