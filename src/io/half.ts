// 16-bit floats by hand: Node 20 has no Float16Array, and no JS runtime has a bfloat16 array.
// Both directions round to nearest, ties to even, as PyTorch's `.half()` and `.bfloat16()` do
// (c10/util/Half.h `fp16_ieee_from_fp32_value`, c10/util/BFloat16.h `round_to_nearest_even`);
// test/io-safetensors.test.ts checks every bit pattern against a committed PyTorch fixture.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE binary32 bit pattern of `x` (after rounding `x` to float32). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0] as number;
}

/** The float32 whose bit pattern is `bits`. */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0] as number;
}

/** float32 → IEEE binary16 bits, round to nearest even; overflow gives ±Inf, NaN stays quiet NaN. */
export function f32ToF16Bits(x: number): number {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  // binary16 exponent field for a normal result: bias 15 instead of 127.
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    // Keep the top 10 of 23 mantissa bits; the 13 dropped bits decide the rounding. Adding 1 to the
    // packed exponent|mantissa carries into the exponent (and up to Inf) exactly as it should.
    const rest = mant & 0x1fff;
    let h = (e << 10) | (mant >>> 13);
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  // Subnormal result: value = m · 2^-24 with m < 1024. The full 24-bit significand is shifted right.
  const shift = 14 - e;
  if (shift > 24) return sign; // below half the smallest subnormal: rounds to ±0
  const sig = mant | 0x800000;
  let m = sig >>> shift;
  const rest = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (m & 1) === 1)) m += 1; // m = 1024 becomes the smallest normal
  return sign | m;
}

/** IEEE binary16 bits → number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 → bfloat16 bits (the high half of the float32), round to nearest even. */
export function f32ToBf16Bits(x: number): number {
  const b = f32Bits(x);
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40; // quiet NaN
  const lsb = (b >>> 16) & 1;
  return ((b + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bfloat16 bits → number (exact: the bits are the high half of a float32). */
export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}
