// LoRA factor initialization: host-side, engine-free, deterministic from the key.
//
// Pinned source: PEFT src/peft/tuners/lora/layer.py (`reset_lora_parameters`, `orthogonal_init`,
// `pissa_init`; PEFT commit 5d602fdb). Shapes follow PEFT: lora_A.weight is
// [r, in], lora_B.weight is [out, r], both row-major. Which factor is zero for each scheme is stated
// by test/lora-init.test.ts.
//
// Schemes (σ_in = 1/√in, σ_r = 1/√r):
//   init-a      A ~ U(−σ_in, σ_in) (kaiming_uniform_(a=√5) on [r,in]), B = 0   — paper's Init[A]
//   init-b      A = 0, B ~ U(−σ_r, σ_r) (kaiming_uniform_(a=√5) on [out,r])     — paper's Init[B]
//   gaussian    A ~ N(0, (1/r)²) — std 1/r, NOT 1/√r (PEFT's diffusers convention), B = 0
//   gaussian-b  the mirror: A = 0, B ~ N(0, (1/r)²). Our choice: keep PEFT's std 1/r, so the only
//               difference from `gaussian` is which factor is random.
//   orthogonal  Q,_ = qr(randn(r,r)); A = (randn(in,r/2)·Q[0::2,:])ᵀ/10, B = randn(r/2,out)ᵀ·Q[1::2,:]/10;
//               both non-zero, B·A = 0 because the even and odd rows of Q are orthogonal. Needs even r.
//   none        PEFT `False`: nn.Linear defaults for both, A ~ U(−σ_in, σ_in), B ~ U(−σ_r, σ_r);
//               B·A ≠ 0, so the adapter changes the model at step 0 (the caller warns).
//   pissa       W* = U·S·Vh; A = diag(√(S_r/s))·Vh_r, B = U_r·diag(√(S_r/s)); W* ← W* − s·B·A.
//
// `std` override (LoraConfig.init_std, for width-scaling studies): the random factor gets exactly that
// std; uniform schemes keep their shape, U(−√3·std, √3·std); `none` applies it to both factors;
// `orthogonal` uses it in place of the 1/10 factor (the randn draws are multiplied by std instead);
// `pissa` has no random factor and rejects it.
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import type { InitScheme } from "./config.ts";
import { mat, matmul, qr, topSvd, transpose, type Mat } from "./hostlinalg.ts";

export interface FactorDims {
  inFeatures: number;
  outFeatures: number;
  r: number;
}

export interface InitOptions {
  /** Override of the random factor's std (see the header). */
  std?: number;
  /** W* [out, in] row-major; needed by pissa. */
  weight?: Float32Array;
  /** The scaling s; needed by pissa. */
  scaling?: number;
}

export interface InitFactors {
  /** [r, in] row-major. */
  A: Float32Array;
  /** [out, r] row-major. */
  B: Float32Array;
  /** The rewritten W* [out, in] (pissa only). */
  weight?: Float32Array;
}

/** U(−bound, bound) with bound = √3·std, so the std is exactly `std`. */
function uniformWithStd(key: Key, shape: readonly number[], std: number): Float32Array {
  const bound = Math.sqrt(3) * std;
  return prng.uniform(key, shape, -bound, bound);
}

/** Initialize the two LoRA factors of one module. Independent streams: fold(key,"A"), fold(key,"B"). */
export function initLoraFactors(key: Key, scheme: InitScheme, dims: FactorDims, opts: InitOptions = {}): InitFactors {
  const { inFeatures: nIn, outFeatures: nOut, r } = dims;
  for (const [name, v] of [["inFeatures", nIn], ["outFeatures", nOut], ["r", r]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new UserError(`${name} must be a positive integer, got ${v}`);
  }
  const kA = prng.fold(key, "A");
  const kB = prng.fold(key, "B");
  const shapeA = [r, nIn];
  const shapeB = [nOut, r];
  const zerosA = (): Float32Array => new Float32Array(r * nIn);
  const zerosB = (): Float32Array => new Float32Array(nOut * r);
  const std = opts.std;
  // kaiming_uniform_(a=√5) on a [fanOut, fanIn] weight: bound 1/√fanIn, i.e. std 1/√(3·fanIn).
  const kaimingStd = (fanIn: number): number => 1 / Math.sqrt(3 * fanIn);
  switch (scheme) {
    case "init-a":
      return { A: uniformWithStd(kA, shapeA, std ?? kaimingStd(nIn)), B: zerosB() };
    case "init-b":
      return { A: zerosA(), B: uniformWithStd(kB, shapeB, std ?? kaimingStd(r)) };
    case "gaussian":
      return { A: prng.normal(kA, shapeA, std ?? 1 / r), B: zerosB() };
    case "gaussian-b":
      return { A: zerosA(), B: prng.normal(kB, shapeB, std ?? 1 / r) };
    case "none":
      return {
        A: uniformWithStd(kA, shapeA, std ?? kaimingStd(nIn)),
        B: uniformWithStd(kB, shapeB, std ?? kaimingStd(r)),
      };
    case "orthogonal":
      return orthogonal(key, dims, std ?? 0.1);
    case "pissa":
      return pissa(key, dims, opts);
    default: {
      const never: never = scheme;
      throw new UserError(`unknown init scheme "${String(never)}"`);
    }
  }
}

/** PEFT `orthogonal_init` (layer.py): randn draws multiplied by `factor` (PEFT: 1/10). */
function orthogonal(key: Key, dims: FactorDims, factor: number): InitFactors {
  const { inFeatures: nIn, outFeatures: nOut, r } = dims;
  if (r % 2 !== 0) throw new UserError(`init_lora_weights "orthogonal" needs an even r, got r = ${r}`);
  const h = r / 2;
  const { Q } = qr(mat(r, r, prng.normal(prng.fold(key, "Q"), [r, r]))); // [r,r] orthogonal
  const qOdd = mat(h, r); // Q[0::2, :]  [r/2, r]
  const qEven = mat(h, r); // Q[1::2, :]  [r/2, r]
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < r; j++) {
      qOdd.data[i * r + j] = Q.data[2 * i * r + j] as number;
      qEven.data[i * r + j] = Q.data[(2 * i + 1) * r + j] as number;
    }
  }
  const gA = mat(nIn, h, prng.normal(prng.fold(key, "A"), [nIn, h])); // randn(in, r/2)
  const gB = transpose(mat(h, nOut, prng.normal(prng.fold(key, "B"), [h, nOut]))); // randn(r/2, out)ᵀ [out, r/2]
  const A = transpose(matmul(gA, qOdd)); // ([in,r/2]·[r/2,r])ᵀ = [r,in]
  const B = matmul(gB, qEven); // [out,r/2]·[r/2,r] = [out,r]
  return { A: scaled(A, factor), B: scaled(B, factor) };
}

/** PEFT `pissa_init` (layer.py): principal singular triplets of W*, split evenly between A and B. */
function pissa(key: Key, dims: FactorDims, opts: InitOptions): InitFactors {
  const { inFeatures: nIn, outFeatures: nOut, r } = dims;
  const { weight, scaling: s } = opts;
  if (weight === undefined || s === undefined) throw new Error("pissa init needs opts.weight and opts.scaling");
  if (opts.std !== undefined)
    throw new UserError('init_std cannot be used with init_lora_weights "pissa" (it has no random factor)');
  if (weight.length !== nOut * nIn)
    throw new Error(`pissa init: weight has ${weight.length} values, expected ${nOut}×${nIn}`);
  if (!(Number.isFinite(s) && s > 0)) throw new Error(`pissa init: scaling must be positive, got ${s}`);
  if (r > Math.min(nIn, nOut)) {
    throw new UserError(`init_lora_weights "pissa" needs r ≤ min(in, out) = ${Math.min(nIn, nOut)}, got r = ${r}`);
  }
  const w = mat(nOut, nIn, weight);
  const k = Math.min(r + 8, nIn, nOut);
  const start = mat(nIn, k, prng.normal(prng.fold(key, "svd"), [nIn, k]));
  const { U, S, Vh } = topSvd(w, r, start); // U [out,r], S [r], Vh [r,in]
  const A = new Float32Array(r * nIn);
  const B = new Float32Array(nOut * r);
  for (let j = 0; j < r; j++) {
    const g = Math.sqrt((S[j] as number) / s);
    for (let i = 0; i < nIn; i++) A[j * nIn + i] = g * (Vh.data[j * nIn + i] as number);
    for (let i = 0; i < nOut; i++) B[i * r + j] = (U.data[i * r + j] as number) * g;
  }
  // W* − s·B·A computed from the float32 factors actually stored, so W + s·B·A reproduces W* as
  // closely as float32 allows.
  const BA = matmul(mat(nOut, r, B), mat(r, nIn, A)); // [out,r]·[r,in] = [out,in]
  const out = new Float32Array(nOut * nIn);
  for (let i = 0; i < out.length; i++) out[i] = (weight[i] as number) - s * (BA.data[i] as number);
  return { A, B, weight: out };
}

function scaled(m: Mat, f: number): Float32Array {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (m.data[i] as number) * f;
  return out;
}
