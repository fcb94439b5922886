// The patched engine against the engine as published: random shape sets × the ops lorascope uses
// (2-D and batched matmuls in every operand layout, broadcasting elementwise, reductions,
// slice/concatenate/pad/where), each eager, under jit, and differentiated (grad, and jit of grad),
// run on both copies of @jax-js/jax in one process (support/pristine-engine.ts).
//
// The patches (patches/*.patch) change which kernels the engine generates, not what they compute:
// every output must be bit-for-bit the published engine's — with one stated exception. A reduction
// kernel with fewer than 4 outputs (a sum to a scalar, a mean loss, the gradient of a [2]-bias)
// now keeps 4 lanes × 4 partial sums over k instead of one running sum, so its additions happen in
// another order. Hence two runs:
// - sizes ≥ 4 along every axis: bit for bit, except the cases that reduce to a scalar or to 3 rows
//   on purpose, which are checked against a float64 sum within n·2⁻²⁴·Σ|xᵢ| — the error bound of
//   recursive summation in float32 (Higham, Accuracy and Stability of Numerical Algorithms, §4.2),
//   which holds in any order;
// - sizes 1…8, where such kernels turn up inside matmuls and gradients too: within 2⁻¹² of the
//   output's largest magnitude (every reduction there is shorter than 4096 terms, and n·2⁻²⁴ stays
//   below 2⁻¹² for n < 4096).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { JaxModule, Tensor as Arr } from "../src/engine/jax.ts";
import { loadEngine, patchedRoot, unappliedPatchLines, unpackPristine } from "./support/pristine-engine.ts";

/** A program over fresh input arrays (it consumes them), returning one array. */
type Program = (J: JaxModule, xs: Arr[]) => Arr;
interface Case {
  name: string;
  shapes: number[][];
  f: Program;
  /** false: the output is a reduction to < 4 elements (see the header), checked against float64. */
  exact?: boolean;
  /** With exact: false, the reduction is a mean (the float64 sum is divided by the count). */
  mean?: boolean;
}

const SEED = Number(process.env["ENGINE_DIFF_SEED"] ?? 20261130);
const SETS = Number(process.env["ENGINE_DIFF_SETS"] ?? 8); // random shape sets per run; each runs every case family

/** mulberry32: a small seeded generator, so a failure names the seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sizes that reach every code path: odd (tails), multiples of 4 and of the micro-tiles (tiled SIMD
// and K-SIMD paths, full and partial micro-tiles, M = 5, 6, 7); and < 4 (scalar loops).
const DIMS = [4, 5, 6, 7, 8, 12, 16, 17, 32, 33, 64, 96, 128];
const SMALL_DIMS = [1, 2, 3, 4, 5, 8];

function cases(seed: number, dims: readonly number[]): Case[] {
  const r = rng(seed);
  const d = () => dims[Math.floor(r() * dims.length)] as number;
  const [m, k, n, b] = [d(), d(), d(), 1 + Math.floor(r() * 4)];
  const mm = (J: JaxModule, x: Arr, y: Arr) => J.numpy.matmul(x, y);
  const t2 = (J: JaxModule, x: Arr) => J.numpy.transpose(x);
  const tb = (J: JaxModule, x: Arr) => J.numpy.transpose(x, [0, 2, 1]);
  const at = <T,>(xs: T[], i: number): T => xs[i] as T;
  return [
    { name: `matmul [${m},${k}]·[${k},${n}]`, shapes: [[m, k], [k, n]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    { name: `matmul x·Wᵀ [${m},${k}]·[${n},${k}]ᵀ`, shapes: [[m, k], [n, k]], f: (J, x) => mm(J, at(x, 0), t2(J, at(x, 1))) },
    { name: `matmul xᵀ·y [${k},${m}]ᵀ·[${k},${n}]`, shapes: [[k, m], [k, n]], f: (J, x) => mm(J, t2(J, at(x, 0)), at(x, 1)) },
    { name: `matmul xᵀ·yᵀ`, shapes: [[k, m], [n, k]], f: (J, x) => mm(J, t2(J, at(x, 0)), t2(J, at(x, 1))) },
    // B's rows 4 KiB apart: the wide micro-tile's path (patch 003).
    { name: `matmul [${m},${k}]·[${k},1024]`, shapes: [[m, k], [k, 1024]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    { name: `batched [${b},${m},${k}]·[${b},${k},${n}]`, shapes: [[b, m, k], [b, k, n]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    { name: `batched q·kᵀ [${b},${m},${k}]·[${b},${n},${k}]ᵀ`, shapes: [[b, m, k], [b, n, k]],
      f: (J, x) => mm(J, at(x, 0), tb(J, at(x, 1))) },
    { name: `batched · shared [${b},${m},${k}]·[${k},${n}]`, shapes: [[b, m, k], [k, n]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    { name: `matrix·vector [${m},${k}]·[${k}]`, shapes: [[m, k], [k]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    { name: `vector·matrix [${k}]·[${k},${n}]`, shapes: [[k], [k, n]], f: (J, x) => mm(J, at(x, 0), at(x, 1)) },
    // The toy model's pre-activation: C + Σ_j z_j·b_j·s, broadcast [1,N,n] + [K,N,1]·[K,1,n].
    { name: `broadcast pre-activation [${b},${m},${n}] r=4`, shapes: [[m, n], [b, m, 4], [b, 4, n]],
      f: (J, [C, z, w]) => {
        let u = (C as Arr).reshape([1, m, n]);
        for (let j = 0; j < 4; j++) {
          const zj = (z as Arr).ref.slice([], [], j).reshape([b, m, 1]);
          const wj = (w as Arr).ref.slice([], j).reshape([b, 1, n]);
          u = u.add(zj.mul(wj).mul(0.5));
        }
        (z as Arr).dispose();
        (w as Arr).dispose();
        return u;
      } },
    { name: `broadcast elementwise gelu(x + bias)·scale [${b},${m},${n}]`, shapes: [[b, m, n], [n], [m, 1]],
      f: (J, x) => J.nn.gelu(at(x, 0).add(at(x, 1))).mul(at(x, 2)) },
    { name: `sum over the last axis [${m},${n}]`, shapes: [[m, n]], f: (J, x) => J.numpy.sum(at(x, 0), -1) },
    { name: `sum over the first axis [${m},${n}]`, shapes: [[m, n]], f: (J, x) => J.numpy.sum(at(x, 0), 0) },
    { name: `max over the last axis [${b},${m},${n}]`, shapes: [[b, m, n]], f: (J, x) => J.numpy.max(at(x, 0), -1) },
    { name: `softmax [${m},${n}]`, shapes: [[m, n]], f: (J, x) => J.nn.softmax(at(x, 0), -1) },
    { name: `sum to a scalar [${m},${k},${n}]`, shapes: [[m, k, n]], f: (J, x) => J.numpy.sum(at(x, 0)), exact: false },
    { name: `mean to a scalar [${b},${m},${n}]`, shapes: [[b, m, n]], f: (J, x) => J.numpy.mean(at(x, 0)), exact: false, mean: true },
    { name: `row sums of [3,${k * n}]`, shapes: [[3, k * n]], f: (J, x) => J.numpy.sum(at(x, 0), 1), exact: false },
    { name: `slice, pad, concatenate, where [${m},${n}]`, shapes: [[m, n], [m, n]],
      f: (J, [x, y]) => {
        const head = (x as Arr).ref.slice([0, Math.max(1, m >> 1)]); // [⌈m/2⌉ rows, n]
        const padded = J.numpy.pad(head, [[0, 1], [1, 0]]).slice([], [0, n]); // [rows+1, n]
        const both = J.numpy.concatenate([padded, (y as Arr).ref], 0); // [rows+1+m, n]
        return J.numpy.where(both.ref.greater(0), both.ref.mul(2), both.mul(0.5)).add(J.numpy.sum(x as Arr, 0)).mul(
          (y as Arr).sum(0),
        );
      } },
  ];
}

function data(shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(shape.reduce((a, s) => a * s, 1));
  for (let i = 0; i < out.length; i++) out[i] = (r() - 0.5) * 2;
  return out;
}

/** One case's outputs on one engine: eager, jit, grad (every input), jit of grad. */
async function runCase(J: JaxModule, c: Case, seed: number): Promise<Map<string, Float32Array>> {
  const inputs = c.shapes.map((s, i) => data(s, seed * 31 + i));
  const fresh = () => c.shapes.map((s, i) => J.numpy.array(inputs[i] as Float32Array, { shape: s }));
  const out = new Map<string, Float32Array>();
  const read = async (key: string, a: Arr) => out.set(key, Float32Array.from((await a.data()) as ArrayLike<number>));
  await read("eager", c.f(J, fresh()));
  const jitted = J.jit((...xs: Arr[]) => c.f(J, xs));
  await read("jit", jitted(...fresh()));
  jitted.dispose();
  if (c.exact === false) return out; // scalar losses: their gradients are broadcasts, covered above
  // Loss Σ f(x)·w with a fixed random cotangent w (its own sum reduces to a scalar, but only the
  // gradients — w times the backward of f — are compared, bit for bit).
  const probe = out.get("eager") as Float32Array;
  const w = data([probe.length], seed * 31 + 99);
  const loss = (...xs: Arr[]) => J.numpy.sum(c.f(J, xs.slice(0, -1)).reshape([-1]).mul(xs.at(-1) as Arr));
  const argnums = c.shapes.map((_, i) => i);
  const g = J.grad(loss, { argnums });
  const withW = () => [...fresh(), J.numpy.array(w, { shape: [w.length] })];
  const grads = g(...withW());
  for (const [i, a] of grads.entries()) await read(`grad ${i}`, a);
  const jg = J.jit(g);
  const jgrads = jg(...withW());
  for (const [i, a] of jgrads.entries()) await read(`jit grad ${i}`, a);
  jg.dispose();
  return out;
}

function bitsEqual(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

let patched: JaxModule;
let pristine: JaxModule;
let cleanup = () => {};

before(async () => {
  const p = unpackPristine();
  cleanup = p.cleanup;
  patched = await loadEngine(patchedRoot);
  pristine = await loadEngine(p.root);
});
after(() => cleanup());

test("npm's postinstall applied every patch in patches/ to the installed engine", () => {
  assert.deepEqual(unappliedPatchLines(patchedRoot), []);
});

/** Compares every output of every case on `sets` shape sets; `close`: the small-size tolerance. */
async function compareEngines(dims: readonly number[], seed0: number, close: boolean): Promise<number> {
  let compared = 0;
  for (let s = 0; s < SETS; s++) {
    const seed = seed0 + s;
    for (const c of cases(seed, dims)) {
      const mine = await runCase(patched, c, seed);
      const theirs = await runCase(pristine, c, seed);
      assert.deepEqual([...mine.keys()], [...theirs.keys()]);
      for (const [key, a] of mine) {
        const b = theirs.get(key) as Float32Array;
        const where = `${c.name}, ${key} (seed ${seed})`;
        assert.equal(a.length, b.length, where);
        if (c.exact === false) checkAgainstFloat64(c, seed, a, b, where);
        else if (close) {
          const tol = 2 ** -12 * b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          for (let i = 0; i < a.length; i++) {
            const err = Math.abs((a[i] as number) - (b[i] as number));
            assert.ok(err <= tol, `${where}: element ${i} is ${a[i]}, the published engine gives ${b[i]} (> ${tol})`);
          }
        } else {
          const i = bitsEqual(a, b);
          assert.equal(i, -1, `${where}: element ${i} is ${a[i]}, the published engine gives ${b[i]}`);
        }
        compared++;
      }
    }
  }
  return compared;
}

/** A reduction of the case's first input, per group of consecutive elements, against float64. */
function checkAgainstFloat64(c: Case, seed: number, a: Float32Array, b: Float32Array, where: string): void {
  const x = data(c.shapes[0] as number[], seed * 31);
  const per = x.length / a.length;
  const divisor = c.mean === true ? per : 1;
  for (let g = 0; g < a.length; g++) {
    let exact = 0;
    let abs = 0;
    for (let i = g * per; i < (g + 1) * per; i++) {
      exact += x[i] as number;
      abs += Math.abs(x[i] as number);
    }
    const bound = (per * 2 ** -24 * abs) / divisor;
    for (const [who, v] of [["patched", a], ["published", b]] as const) {
      const err = Math.abs((v[g] as number) - exact / divisor);
      assert.ok(err <= bound, `${where}: ${who} ${v[g]} vs float64 ${exact / divisor}, error ${err} > ${bound}`);
    }
  }
}

test(`patched engine = published engine, bit for bit, on ${SETS} random shape sets (seed ${SEED})`, { timeout: 300_000 },
  async (t) => {
    t.diagnostic(`${await compareEngines(DIMS, SEED, false)} outputs compared`);
  });

test(`patched engine ≈ published engine at sizes 1…8 on ${SETS} random shape sets (seed ${SEED + 1000})`,
  { timeout: 300_000 }, async (t) => {
    t.diagnostic(`${await compareEngines(SMALL_DIMS, SEED + 1000, true)} outputs compared`);
  });

// The kernels split across worker threads at chunk boundaries the patches also set (a broadcast
// row loop aligns chunks to its rows), so the same comparison runs once more with 2 threads.
test("the same with 2 kernel threads (2 shape sets)", { timeout: 300_000, skip: process.env["LORASCOPE_THREADS"] !== undefined },
  () => {
    // This file run as a plain script (node:test runs its tests and reports TAP), not under the
    // parent's test runner: NODE_TEST_CONTEXT would make the child report to the parent instead.
    const env: NodeJS.ProcessEnv = { ...process.env, LORASCOPE_THREADS: "2", ENGINE_DIFF_SETS: "2" };
    delete env["NODE_TEST_CONTEXT"];
    const r = spawnSync(process.execPath, ["--import", "tsx", import.meta.filename], { env, encoding: "utf8" });
    assert.equal(r.status, 0, `with 2 threads:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ok \d+ - patched engine = published engine, bit for bit/m, r.stdout);
    assert.match(r.stdout, /^# fail 0$/m, r.stdout);
  });
