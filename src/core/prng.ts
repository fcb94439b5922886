// Explicit, splittable pseudo-random keys, computed on the host so that the same seed gives the same
// numbers on every engine and backend. A key is an immutable pair of 32-bit words. `split` and `fold`
// derive independent child keys by hashing (parent, index); sampling from a key never changes it.
//
// Convention that makes init comparisons fair: a run's root key is split by
// *name* — `fold(root, "base")`, `fold(root, "data")`, `fold(root, "adapter")` — so the base model
// and the data depend only on the seed, never on the adapter's init scheme or learning rate.

export interface Key {
  readonly hi: number;
  readonly lo: number;
}

/** 32-bit finaliser of MurmurHash3: a bijective mix of one word. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function hashPair(a: number, b: number, salt: number): number {
  return mix32((mix32(a ^ salt) + Math.imul(b ^ 0x9e3779b9, 0x27d4eb2f)) >>> 0);
}

/** Root key of a seed (a non-negative integer below 2^53). */
export function key(seed: number): Key {
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new Error(`seed must be a non-negative integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return { hi: hashPair(hi, lo, 0x1b873593), lo: hashPair(lo, hi, 0xcc9e2d51) };
}

/** The i-th child of a key. */
export function child(k: Key, i: number): Key {
  return { hi: hashPair(k.hi, i >>> 0, 0x68e31da4), lo: hashPair(k.lo, i >>> 0, 0xb5297a4d) };
}

/** `n` independent child keys. */
export function split(k: Key, n = 2): Key[] {
  return Array.from({ length: n }, (_, i) => child(k, i));
}

/** A child key named by a string or number (stable across code changes that add other names). */
export function fold(k: Key, name: string | number): Key {
  if (typeof name === "number") return child(k, name + 0x40000000);
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return child(k, h);
}

/** xoshiro128** stream seeded from a key; internal to the samplers. */
function stream(k: Key): () => number {
  let a = mix32(k.hi ^ 0xdeadbeef) | 1;
  let b = mix32(k.lo ^ 0x41c64e6d);
  let c = mix32(k.hi + 0x6c078965);
  let d = mix32(k.lo + 0x3c6ef372);
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
}

function rotl(x: number, s: number): number {
  return (x << s) | (x >>> (32 - s));
}

function count(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Uniform samples in [lo, hi), float32, row-major. */
export function uniform(k: Key, shape: readonly number[], lo = 0, hi = 1): Float32Array {
  const next = stream(k);
  const out = new Float32Array(count(shape));
  const w = hi - lo;
  for (let i = 0; i < out.length; i++) out[i] = lo + w * ((next() + 0.5) / 4294967296);
  return out;
}

/** Normal samples N(mean, std²) by Box–Muller, float32, row-major. */
export function normal(k: Key, shape: readonly number[], std = 1, mean = 0): Float32Array {
  const next = stream(k);
  const out = new Float32Array(count(shape));
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (next() + 0.5) / 4294967296;
    const u2 = (next() + 0.5) / 4294967296;
    const rad = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * rad * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = mean + std * rad * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(k: Key, n: number): Int32Array {
  const next = stream(k);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((next() + 0.5) / 4294967296) * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** Bernoulli(p) mask as float32 0/1 values. */
export function bernoulli(k: Key, shape: readonly number[], p: number): Float32Array {
  const u = uniform(k, shape);
  for (let i = 0; i < u.length; i++) u[i] = (u[i] as number) < p ? 1 : 0;
  return u;
}
