// Child process for test/engine-threads.test.ts: the engine's thread count is fixed when it loads
// (LORASCOPE_THREADS), so each count needs its own process. Prints one JSON line.
import { initEngine, engineThreads, np, jit, valueAndGrad, tensor, read, type Tensor } from "../../src/engine/index.ts";
import { workersStarted } from "../../src/engine/threads.ts";

function values(n: number, seed: number): Float32Array {
  // A fixed, non-trivial pattern; no PRNG so the child depends on the engine only.
  return Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + seed) * 0.5);
}

await initEngine();
const [m, k, n] = [200, 384, 328]; // not multiples of the kernel tiles, so chunk edges are exercised
const matmul = jit((a: Tensor, b: Tensor) => np.matmul(a, b)); // [m,k]·[k,n] → [m,n]
const y = matmul(tensor(values(m * k, 1), [m, k]), tensor(values(k * n, 2), [k, n]));
const product = Array.from(await read(y));
y.dispose();

// A gradient through a small MLP, so routines and fused backward kernels run on workers too.
const loss = (w: Tensor, x: Tensor): Tensor => np.square(np.tanh(np.matmul(x, w))).mean(); // [64,96]·[96,48]
const [value, g] = valueAndGrad(loss)(tensor(values(96 * 48, 3), [96, 48]), tensor(values(64 * 96, 4), [64, 96]));
const grad = Array.from(await read(g));
const lossValue = (await read(value))[0];
g.dispose();
value.dispose();

console.log(JSON.stringify({ threads: engineThreads(), workers: workersStarted(), product, grad, loss: lossValue }));
