// safetensors reader/writer: float16/bfloat16 bits against PyTorch, round trips per dtype, and one
// clear UserError for every kind of malformed file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { bf16BitsToF32, f16BitsToF32, f32FromBits, f32ToBf16Bits, f32ToF16Bits } from "../src/io/half.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type HostTensor,
} from "../src/io/safetensors.ts";
import fixture from "./fixtures/half-bits.json" with { type: "json" };

const inputs = Float32Array.from(fixture.f32, (b) => f32FromBits(b));
const isNaN16 = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isNaNbf = (h: number): boolean => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

/** Little-endian uint16 values of a byte range. */
function u16s(bytes: Uint8Array, at: number, count: number): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 2 * count);
  return Array.from({ length: count }, (_, i) => v.getUint16(2 * i, true));
}

function dataStart(bytes: Uint8Array): number {
  return 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

test("float32 → float16 / bfloat16 bits match PyTorch's .half() / .bfloat16() (round to nearest even)", () => {
  assert.ok(inputs.length > 200);
  inputs.forEach((x, i) => {
    const h = f32ToF16Bits(x);
    const b = f32ToBf16Bits(x);
    if (Number.isNaN(x)) {
      // Any quiet NaN is a NaN: PyTorch's vectorized bf16 path writes 0xffff, the scalar path 0x7fc0.
      assert.ok(isNaN16(h) && isNaN16(fixture.f16[i] as number), `f16 NaN at ${i}`);
      assert.ok(isNaNbf(b) && isNaNbf(fixture.bf16[i] as number), `bf16 NaN at ${i}`);
      return;
    }
    assert.equal(h, fixture.f16[i], `f16 bits of ${x} (input ${i})`);
    assert.equal(b, fixture.bf16[i], `bf16 bits of ${x} (input ${i})`);
  });
});

test("16-bit decoders are exact on known patterns and invert the encoders", () => {
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0xc100), -2.5);
  assert.equal(f16BitsToF32(0xfc00), -Infinity);
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0xc020), -2.5);
  for (const h of fixture.f16) if (!isNaN16(h)) assert.equal(f32ToF16Bits(f16BitsToF32(h)), h);
  for (const h of fixture.bf16) if (!isNaNbf(h)) assert.equal(f32ToBf16Bits(bf16BitsToF32(h)), h);
});

test("F16 and BF16 files hold PyTorch's bit patterns and read back as those values", () => {
  for (const [dtype, bits] of [["F16", fixture.f16], ["BF16", fixture.bf16]] as const) {
    const bytes = encodeSafetensors([["x", { shape: [inputs.length], data: inputs }]], { dtype });
    const stored = u16s(bytes, dataStart(bytes), inputs.length);
    stored.forEach((h, i) => {
      if (Number.isNaN(inputs[i])) assert.ok(dtype === "F16" ? isNaN16(h) : isNaNbf(h));
      else assert.equal(h, bits[i], `${dtype} bits of input ${i}`);
    });
    const t = decodeSafetensors(bytes, "mem").tensors.get("x");
    assert.equal(t?.dtype, dtype);
    const back = t?.data;
    const decode = dtype === "F16" ? f16BitsToF32 : bf16BitsToF32;
    back.forEach((v, i) => {
      if (Number.isNaN(inputs[i])) assert.ok(Number.isNaN(v));
      else assert.equal(v, decode(bits[i] as number), `${dtype} value ${i}`);
    });
  }
});

test("F32 round trip is exact, keeps metadata, pads the header to 8 bytes, and handles empty and rank-0 tensors", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-st-"));
  const file = path.join(dir, "w.safetensors");
  const a = Float32Array.from([1.5, -0, 3.25e-30, 7, Infinity, -8]);
  await writeSafetensors(
    file,
    [
      ["layer.a", { shape: [2, 3], data: a }],
      ["empty", { shape: [0, 4], data: new Float32Array(0) }],
      ["scalar", { shape: [], data: Float32Array.of(42) }],
      ["half", { shape: [2], data: Float32Array.of(0.5, 3), dtype: "F16" }],
    ],
    { metadata: { format: "pt", note: "x" } },
  );
  assert.deepEqual(await readdir(dir), ["w.safetensors"], "no temporary file is left behind");
  const bytes = new Uint8Array(await readFile(file));
  assert.equal((dataStart(bytes) - 8) % 8, 0);
  const { tensors, metadata } = await readSafetensors(file);
  assert.deepEqual(metadata, { format: "pt", note: "x" });
  assert.deepEqual(tensors.get("layer.a"), { dtype: "F32", shape: [2, 3], data: a });
  assert.deepEqual(tensors.get("empty")?.shape, [0, 4]);
  assert.deepEqual(tensors.get("scalar"), { dtype: "F32", shape: [], data: Float32Array.of(42) });
  assert.deepEqual(tensors.get("half"), { dtype: "F16", shape: [2], data: Float32Array.of(0.5, 3) });
});

/** A safetensors file from a header object and a data section (for the other dtypes and bad files). */
function build(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

test("reads F64, I32, I64, U8 and BOOL", () => {
  const data = new Uint8Array(16 + 8 + 16 + 3 + 2);
  const v = new DataView(data.buffer);
  v.setFloat64(0, Math.PI, true);
  v.setFloat64(8, -1e300, true);
  v.setInt32(16, -7, true);
  v.setInt32(20, 2 ** 31 - 1, true);
  v.setBigInt64(24, -(2n ** 62n), true);
  v.setBigInt64(32, 5n, true);
  data.set([0, 128, 255], 40);
  data.set([1, 0], 43);
  const t = decodeSafetensors(
    build(
      {
        d: { dtype: "F64", shape: [2], data_offsets: [0, 16] },
        i: { dtype: "I32", shape: [2], data_offsets: [16, 24] },
        l: { dtype: "I64", shape: [2, 1], data_offsets: [24, 40] },
        u: { dtype: "U8", shape: [3], data_offsets: [40, 43] },
        b: { dtype: "BOOL", shape: [2], data_offsets: [43, 45] },
      },
      data,
    ),
    "mem",
  ).tensors;
  assert.deepEqual(t.get("d"), { dtype: "F64", shape: [2], data: Float64Array.of(Math.PI, -1e300) });
  assert.deepEqual(t.get("i"), { dtype: "I32", shape: [2], data: Int32Array.of(-7, 2 ** 31 - 1) });
  assert.deepEqual(t.get("l"), { dtype: "I64", shape: [2, 1], data: BigInt64Array.of(-(2n ** 62n), 5n) });
  assert.deepEqual(t.get("u"), { dtype: "U8", shape: [3], data: Uint8Array.of(0, 128, 255) });
  assert.deepEqual((t.get("b") as HostTensor).data, Uint8Array.of(1, 0));
});

const good = {
  a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
  b: { dtype: "F16", shape: [2], data_offsets: [8, 12] },
};
const goodData = new Uint8Array(12);

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes, "bad.safetensors"),
    (err: unknown) => {
      assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
      assert.match(err.message, /^bad\.safetensors is not a valid safetensors file: /);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"), "one sentence, one line");
      return true;
    },
  );
}

test("the well-formed base case decodes (so the rejections below are caused by their one change)", () => {
  assert.equal(decodeSafetensors(build(good, goodData), "ok").tensors.size, 2);
});

test("rejects truncated files", () => {
  rejects(new Uint8Array(5), /5 bytes long, shorter than the 8-byte header length/);
  const full = build(good, goodData);
  rejects(full.subarray(0, 20), /header length \d+ runs past the end/);
  rejects(full.subarray(0, full.length - 3), /past the end of the 9-byte data section/);
});

test("rejects a header length over the limit", () => {
  const bytes = build(good, goodData);
  new DataView(bytes.buffer).setBigUint64(0, 200_000_000n, true);
  rejects(bytes, /header length 200000000 exceeds the 100000000-byte limit/);
  new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  rejects(bytes, /exceeds the 100000000-byte limit/);
});

test("rejects a header that is not JSON, not an object, or not starting with '{'", () => {
  rejects(build(null, goodData, '{"a": {"dtype": "F32",'), /header is not valid JSON/);
  rejects(build(null, new Uint8Array(0), " {}"), /does not start with '\{'/);
  rejects(build(null, new Uint8Array(0), "[1]"), /does not start with '\{'/);
  rejects(build({ __metadata__: { n: 1 } }, new Uint8Array(0)), /__metadata__ entry "n" is not a string/);
  rejects(build({ a: 3 }, new Uint8Array(0)), /entry for tensor "a" is not an object/);
});

test("rejects offsets out of range, overlaps and holes", () => {
  rejects(
    build({ ...good, b: { dtype: "F16", shape: [2], data_offsets: [8, 16] } }, goodData.subarray(0, 12)),
    /data_offsets \[8, 16\] past the end/,
  );
  rejects(
    build(
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
      goodData,
    ),
    /"a" and "b" overlap at data offset 4/,
  );
  rejects(
    build(
      { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } },
      goodData,
    ),
    /bytes 4\.\.8 of the data section belong to no tensor/,
  );
  rejects(build(good, new Uint8Array(16)), /bytes 12\.\.16 of the data section belong to no tensor/);
  rejects(
    build({ a: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, goodData),
    /data_offsets \[8,0\], not \[begin, end\]/,
  );
  rejects(build({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, goodData), /not \[begin, end\]/);
});

test("rejects a dtype × shape that disagrees with the byte length, and unknown or unsupported dtypes", () => {
  rejects(
    build({ ...good, a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, goodData),
    /"a" is F32 with shape \[3\], which needs 12 bytes, but its data_offsets span 8/,
  );
  rejects(
    build({ a: { dtype: "F33", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /"a" has unknown dtype "F33"/,
  );
  rejects(
    build({ a: { dtype: "I8", shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /"a" has unsupported dtype "I8" \(lorascope reads F32, F16/,
  );
  rejects(
    build({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)),
    /shape \[-2\], not a list of non-negative integers/,
  );
});

test("reading a missing file is a UserError naming it; a failed write leaves the old file whole", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-st-"));
  const file = path.join(dir, "m.safetensors");
  await assert.rejects(
    readSafetensors(file),
    (e: unknown) => e instanceof UserError && e.message === `${file} does not exist`,
  );
  await writeFile(file, build(good, goodData));
  await assert.rejects(writeSafetensors(file, [["x", { shape: [3], data: new Float32Array(2) }]]));
  assert.equal((await readSafetensors(file)).tensors.size, 2);
  assert.deepEqual(await readdir(dir), ["m.safetensors"]);
});
