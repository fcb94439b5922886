// Which factor is zero, B·A = 0 at init, the distributions of each scheme, the init_std override,
// orthogonal's formula and PiSSA's SVD. Pure host code: no engine needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { UserError } from "../src/core/errors.ts";
import { initLoraFactors } from "../src/lora/init.ts";
import { mat, matmul, qr, transpose } from "../src/lora/hostlinalg.ts";

const key = prng.key(7);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** B·A [out,in] in float64. */
function productBA(A: Float32Array, B: Float32Array, out: number, r: number, nIn: number): Float64Array {
  return matmul(mat(out, r, B), mat(r, nIn, A)).data;
}

function stats(x: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of x) s += v;
  const mean = s / x.length;
  let q = 0;
  for (const v of x) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / x.length) };
}

/**
 * Mean within 5 standard errors of 0 and std within 5 standard errors of `std`. For N iid samples the
 * SE of the mean is σ/√N and the SE of the std is σ·√((κ−1)/(4N)) ≤ σ/√(2N) (κ = 3 normal, 1.8 uniform);
 * we use σ/√N for both, a looser bound that still catches a wrong constant (e.g. 1/√r vs 1/r).
 */
function assertDistribution(x: Float32Array, std: number, label: string): void {
  const st = stats(x);
  const se = std / Math.sqrt(x.length);
  assert.ok(Math.abs(st.mean) < 5 * se, `${label}: mean ${st.mean} not within 5 SE (${se}) of 0`);
  assert.ok(Math.abs(st.std - std) < 5 * se, `${label}: std ${st.std}, expected ${std} ± ${5 * se}`);
}

const dims = { inFeatures: 48, outFeatures: 40, r: 6 };

test("init-a: A random, B = 0; init-b: A = 0, B random; gaussian(-b) likewise", () => {
  const cases = [
    ["init-a", "B"],
    ["init-b", "A"],
    ["gaussian", "B"],
    ["gaussian-b", "A"],
  ] as const;
  for (const [scheme, zero] of cases) {
    const f = initLoraFactors(key, scheme, dims);
    assert.equal(f.A.length, dims.r * dims.inFeatures);
    assert.equal(f.B.length, dims.outFeatures * dims.r);
    const [z, nz] = zero === "A" ? [f.A, f.B] : [f.B, f.A];
    assert.equal(maxAbs(z), 0, `${scheme}: ${zero} should be exactly zero`);
    assert.ok(maxAbs(nz) > 0, `${scheme}: the other factor should be random`);
    assert.ok(maxAbs(productBA(f.A, f.B, dims.outFeatures, dims.r, dims.inFeatures)) < 1e-6);
    assert.equal(f.weight, undefined);
  }
});

test("orthogonal: both factors non-zero and max |B·A| < 1e-6; none: B·A clearly non-zero", () => {
  const o = initLoraFactors(key, "orthogonal", dims);
  assert.ok(maxAbs(o.A) > 1e-3 && maxAbs(o.B) > 1e-3);
  assert.ok(maxAbs(productBA(o.A, o.B, dims.outFeatures, dims.r, dims.inFeatures)) < 1e-6);
  const n = initLoraFactors(key, "none", dims);
  assert.ok(maxAbs(productBA(n.A, n.B, dims.outFeatures, dims.r, dims.inFeatures)) > 1e-2);
});

test("orthogonal follows PEFT's scale: entries of A ≈ N(0, (1/10)²·½) on average", () => {
  // A = (G·Q[0::2,:])ᵀ/10 with G ~ N(0,1) [in, r/2]: entry (j,i) has variance Σ_k Q[2k,j]²/100, whose
  // average over j is (r/2)/r/100 = 1/200 since the rows of Q are unit vectors.
  const f = initLoraFactors(key, "orthogonal", { inFeatures: 2048, outFeatures: 2048, r: 16 });
  assertDistribution(f.A, Math.sqrt(1 / 200), "orthogonal A");
  assertDistribution(f.B, Math.sqrt(1 / 200), "orthogonal B");
});

test("orthogonal rejects an odd r with a UserError", () => {
  assert.throws(
    () => initLoraFactors(key, "orthogonal", { ...dims, r: 5 }),
    (e: unknown) => e instanceof UserError && /even r/.test(e.message),
  );
});

test("distributions on 256×1024 factors: init-a 1/√(3·in), init-b 1/√(3r), gaussian 1/r, bounds respected", () => {
  const big = { inFeatures: 1024, outFeatures: 1024, r: 256 };
  const a = initLoraFactors(key, "init-a", big).A; // [256, 1024]
  assertDistribution(a, 1 / Math.sqrt(3 * big.inFeatures), "init-a A");
  assert.ok(maxAbs(a) <= 1 / Math.sqrt(big.inFeatures), "init-a bound 1/√in");
  const b = initLoraFactors(key, "init-b", big).B; // [1024, 256]
  assertDistribution(b, 1 / Math.sqrt(3 * big.r), "init-b B");
  assert.ok(maxAbs(b) <= 1 / Math.sqrt(big.r), "init-b bound 1/√r");
  assertDistribution(initLoraFactors(key, "gaussian", big).A, 1 / big.r, "gaussian A");
  assertDistribution(initLoraFactors(key, "gaussian-b", big).B, 1 / big.r, "gaussian-b B");
  const none = initLoraFactors(key, "none", big);
  assertDistribution(none.A, 1 / Math.sqrt(3 * big.inFeatures), "none A");
  assertDistribution(none.B, 1 / Math.sqrt(3 * big.r), "none B");
});

test("init_std override: uniform schemes keep their shape U(−√3σ, √3σ); gaussian gets σ", () => {
  const big = { inFeatures: 1024, outFeatures: 1024, r: 256 };
  const sigma = 0.05;
  const a = initLoraFactors(key, "init-a", big, { std: sigma }).A;
  assertDistribution(a, sigma, "init-a σ");
  assert.ok(maxAbs(a) <= Math.sqrt(3) * sigma && maxAbs(a) > 0.99 * Math.sqrt(3) * sigma, "uniform support ±√3σ");
  assertDistribution(initLoraFactors(key, "init-b", big, { std: sigma }).B, sigma, "init-b σ");
  assertDistribution(initLoraFactors(key, "gaussian-b", big, { std: sigma }).B, sigma, "gaussian-b σ");
});

test("deterministic from the key; A and B use independent streams", () => {
  const f1 = initLoraFactors(key, "none", dims);
  const f2 = initLoraFactors(key, "none", dims);
  assert.deepEqual(f1.A, f2.A);
  assert.deepEqual(f1.B, f2.B);
  const g = initLoraFactors(prng.key(8), "none", dims);
  assert.notDeepEqual(g.A, f1.A);
  // Init[A] and Init[B] from the same key draw from different streams (A vs B), not one reused stream.
  const ia = initLoraFactors(key, "init-a", { inFeatures: 8, outFeatures: 8, r: 8 }).A;
  const ib = initLoraFactors(key, "init-b", { inFeatures: 8, outFeatures: 8, r: 8 }).B;
  assert.notDeepEqual(Array.from(ia).map((v) => Math.sign(v)), Array.from(ib).map((v) => Math.sign(v)));
});

/** A [out,in] matrix with singular values `s` (descending) and random singular vectors. */
function withSpectrum(k: prng.Key, nOut: number, nIn: number, s: number[]): Float32Array {
  const n = s.length;
  const U = qr(mat(nOut, n, prng.normal(prng.fold(k, "U"), [nOut, n]))).Q; // [out,n]
  const V = qr(mat(nIn, n, prng.normal(prng.fold(k, "V"), [nIn, n]))).Q; // [in,n]
  const US = mat(nOut, n);
  for (let i = 0; i < nOut; i++)
    for (let j = 0; j < n; j++) US.data[i * n + j] = (U.data[i * n + j] as number) * (s[j] as number);
  return Float32Array.from(matmul(US, transpose(V)).data); // [out,n]·[n,in]
}

for (const [label, nOut, nIn, r] of [
  ["exact path (r + 8 ≥ min dim)", 12, 10, 4],
  ["subspace-iteration path", 60, 50, 5],
] as const) {
  test(`pissa (${label}): W* + s·B·A = W, A·Aᵀ = B ᵀB = diag(S_r/s), top singular values recovered`, () => {
    const spectrum = Array.from({ length: Math.min(nOut, nIn) }, (_, i) => 10 * 0.8 ** i);
    const W = withSpectrum(prng.key(3), nOut, nIn, spectrum);
    const s = 2;
    const f = initLoraFactors(key, "pissa", { inFeatures: nIn, outFeatures: nOut, r }, { weight: W, scaling: s });
    assert.ok(f.weight !== undefined);
    const ba = productBA(f.A, f.B, nOut, r, nIn);
    let err = 0;
    for (let i = 0; i < W.length; i++)
      err = Math.max(err, Math.abs((f.weight[i] as number) + s * (ba[i] as number) - (W[i] as number)));
    assert.ok(err < 1e-5, `reconstruction error ${err}`);
    const AAt = matmul(mat(r, nIn, f.A), transpose(mat(r, nIn, f.A))); // [r,r]
    const BtB = matmul(transpose(mat(nOut, r, f.B)), mat(nOut, r, f.B)); // [r,r]
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const want = i === j ? (spectrum[i] as number) / s : 0;
        // float32 factors of size ~√5: 1e-4 absolute covers their rounding.
        assert.ok(Math.abs((AAt.data[i * r + j] as number) - want) < 1e-4, `AAᵀ[${i},${j}]`);
        assert.ok(Math.abs((BtB.data[i * r + j] as number) - want) < 1e-4, `BᵀB[${i},${j}]`);
      }
    }
  });
}

test("pissa rejects r > min(in, out) and an init_std override", () => {
  const W = new Float32Array(12);
  assert.throws(
    () => initLoraFactors(key, "pissa", { inFeatures: 4, outFeatures: 3, r: 4 }, { weight: W, scaling: 1 }),
    UserError,
  );
  assert.throws(
    () => initLoraFactors(key, "pissa", { inFeatures: 4, outFeatures: 3, r: 2 }, { weight: W, scaling: 1, std: 0.1 }),
    UserError,
  );
});
