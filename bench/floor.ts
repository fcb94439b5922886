// Inputs of the toy step's floor (bench/toy.ts derives the floor from them):
//   - memory bandwidth, two ways: a JS Float32Array copy (`dst.set(src)`, 256 MiB) and a jitted
//     jax-js elementwise add over 2^25 floats (two reads, one write), best of 5 each; bytes counted
//     as read + written;
//   - the matmul rate at the toy step's own shapes: Z_Aᵀ = A·Hᵀ as [K·r, n]·[n, N] (the contraction
//     shape of every r-wide product in the step but preact), median of 5.
// Prints one JSON line. The machine is shared: best-of is the least load-sensitive number.
//
//   LORASCOPE_THREADS=1 node --import tsx bench/floor.ts [--shapes 96x1024x1000,32x4096x1000]
import { initEngine, engineThreads, np, jit, tensor, blockUntilReady, type Tensor } from "../src/engine/index.ts";
import { median, pattern, report } from "./stats.ts";

function copyGBs(): number {
  const n = 2 ** 26; // 256 MiB of float32
  const src = new Float32Array(n).fill(1.5);
  const dst = new Float32Array(n);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    dst.set(src);
    const dt = performance.now() - t0;
    if (i > 0) best = Math.min(best, dt); // i = 0 touches the destination pages
  }
  return (2 * 4 * n) / (best / 1000) / 1e9;
}

const add = jit((a: Tensor, b: Tensor) => a.add(b));

async function addGBs(): Promise<number> {
  const n = 2 ** 25;
  const a = tensor(pattern(n, 1, 1), [n]);
  const b = tensor(pattern(n, 2, 1), [n]);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const y = add(a.ref, b.ref);
    await blockUntilReady(y);
    const dt = performance.now() - t0;
    y.dispose();
    if (i > 0) best = Math.min(best, dt); // i = 0 compiles
  }
  a.dispose();
  b.dispose();
  return (3 * 4 * n) / (best / 1000) / 1e9;
}

const mm = jit((a: Tensor, b: Tensor) => np.matmul(a, np.transpose(b))); // [M,k]·[N,k]ᵀ → [M,N]

async function matmulGFs(M: number, k: number, N: number): Promise<number> {
  const a = tensor(pattern(M * k, 3, 0.1), [M, k]);
  const b = tensor(pattern(N * k, 4, 0.1), [N, k]);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const y = mm(a.ref, b.ref);
    await blockUntilReady(y);
    if (i > 0) times.push(performance.now() - t0);
    y.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * M * k * N) / (median(times) / 1000) / 1e9;
}

await initEngine();
const i = process.argv.indexOf("--shapes");
const shapes = (i < 0 ? "96x1024x1000,32x4096x1000" : String(process.argv[i + 1])).split(",");
const matmul: Record<string, number> = {};
for (const s of shapes) {
  const [M, k, N] = s.split("x").map(Number) as [number, number, number];
  matmul[s] = await matmulGFs(M, k, N);
}
report({ bench: "floor", threads: engineThreads(), copyGBs: copyGBs(), addGBs: await addGBs(), matmulGFs: matmul });
