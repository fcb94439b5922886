// The engine's kernels that the patches in patches/ target, each timed alone (jit, completion
// forced with blockUntilReady, median of repeats after a compiling warm-up). bench/run.ts runs it
// on the patched engine and, through bench/published-engine.mjs, on the published one.
//
//   node --import tsx bench/engine.ts [--reps 5]
// Prints one JSON line: gflops (matmuls), nsPerElement (elementwise, reductions), ms (gradients).
import { initEngine, np, jnn, jit, grad, tensor, type Tensor } from "../src/engine/index.ts";
import { preact } from "../src/models/toy.ts";
import { flag, pattern, report } from "./stats.ts";
import { timeMedian } from "./timing.ts";

const reps = flag("reps", 5);
await initEngine();

const t = (shape: number[], seed: number, scale = 0.1): Tensor =>
  tensor(pattern(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
const gflops: Record<string, number> = {};
const nsPerElement: Record<string, number> = {};
const ms: Record<string, number> = {};

const matmul = jit((a: Tensor, b: Tensor) => np.matmul(a, b));
/** GFLOP/s of a·b for a [..., m, k], b [..., k, n] (2·m·k·n per batch entry). */
async function mm(name: string, aShape: number[], bShape: number[], flop: number): Promise<void> {
  const a = t(aShape, 1);
  const b = t(bShape, 2);
  gflops[name] = flop / (await timeMedian(() => matmul(a.ref, b.ref), reps)) / 1e6;
  a.dispose();
  b.dispose();
}
for (const n of [512, 1024, 2048]) await mm(`matmul ${n}`, [n, n], [n, n], 2 * n ** 3);
// B [n, n+16] sliced to n columns: a zero-copy view whose row stride is not a multiple of 4 KiB.
const sliced = jit((a: Tensor, b: Tensor) => np.matmul(a, b.slice([], [0, 1024])));
{
  const a = t([1024, 1024], 1);
  const b = t([1024, 1040], 2);
  gflops["matmul 1024, B padded to 1040"] = 2 * 1024 ** 3 / (await timeMedian(() => sliced(a.ref, b.ref), reps)) / 1e6;
  a.dispose();
  b.dispose();
}
const bflop = 2 * 32 * 128 * 64 * 128;
await mm("batched [32,128,64]·[32,64,128]", [32, 128, 64], [32, 64, 128], bflop);
await mm("2-D, same FLOPs [4096,64]·[64,128]", [4096, 64], [64, 128], bflop);
{
  const q = t([32, 128, 64], 1);
  const k = t([32, 128, 64], 2);
  const qk = jit((q: Tensor, k: Tensor) => np.matmul(q, np.transpose(k, [0, 2, 1])));
  gflops["batched q·kᵀ [32,128,64]·[32,64,128]"] = bflop / (await timeMedian(() => qk(q.ref, k.ref), reps)) / 1e6;
  q.dispose();
  k.dispose();
}
// MLP backward ct·W with W stored [out, in] = [1024, 256]: the tiled path.
await mm("ct·W [1024,1024]·[1024,256]", [1024, 1024], [1024, 256], 2 * 1024 * 1024 * 256);

// The toy model's pre-activation u = C + s·Σ_j z_j b_jᵀ at r = 4 (K 24 adapters, N 1000, n 1024).
{
  const [K, r, N, n] = [24, 4, 1000, 1024];
  const C = t([N, n], 1);
  const zaT = t([K, r, N], 2);
  const B = t([K, r, n], 3);
  const u = jit((C: Tensor, zaT: Tensor, B: Tensor) => preact(C, zaT, B, 1));
  nsPerElement["toy pre-activation r = 4 [24,1000,1024]"] = (await timeMedian(() => u(C.ref, zaT.ref, B.ref), reps)) * 1e6 / (K * N * n);
  const add = jit((x: Tensor, y: Tensor) => x.add(y));
  const x = t([8, 1024, 1024], 4);
  const y = t([1024, 1024], 5);
  nsPerElement["add [8,1024,1024] + [1024,1024]"] = (await timeMedian(() => add(x.ref, y.ref), reps)) * 1e6 / (8 * 1024 * 1024);
  for (const a of [C, zaT, B, x, y]) a.dispose();
}
{
  const x = t([1 << 25], 6);
  const sum = jit((x: Tensor) => np.sum(x));
  const rows = jit((x: Tensor) => np.sum(x.reshape([1 << 15, 1024]), 1));
  nsPerElement["sum of 2^25 to a scalar"] = (await timeMedian(() => sum(x.ref), reps)) * 1e6 / 2 ** 25;
  nsPerElement["row sums of [2^15, 1024]"] = (await timeMedian(() => rows(x.ref), reps)) * 1e6 / 2 ** 25;
  x.dispose();
}
// Jitted gradient through an activation between two frozen [1024×256] matmuls, with jax-js's own
// gelu (no withDerivative): the case where the published dot backward fused gelu′ into the matmul.
{
  const x = t([256, 256], 7);
  const W1 = t([1024, 256], 8, 0.05);
  const W2 = t([256, 1024], 9, 0.05);
  for (const [name, act] of [["gelu", jnn.gelu], ["tanh", np.tanh]] as const) {
    const g = jit(grad((x: Tensor, W1: Tensor, W2: Tensor) =>
      np.sum(np.matmul(act(np.matmul(x, np.transpose(W1))), np.transpose(W2)))));
    ms[`jitted grad through ${name}, [256,256]·[1024,256]ᵀ·[256,1024]ᵀ`] = await timeMedian(
      () => g(x.ref, W1.ref, W2.ref), Math.max(1, Math.min(reps, 3)));
  }
  for (const a of [x, W1, W2]) a.dispose();
}
report({ bench: "engine", gflops, nsPerElement, ms });
