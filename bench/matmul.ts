// Square fp32 matmul C = A·B through lorascope's engine (jax-js wasm, jit'd), timed until the result
// is on the host (`await read`), so lazy dispatch and worker completion are both inside the time.
// FLOP = 2n³. Prints one JSON line with GFLOP/s per size (median over repeats).
//
//   node --import tsx bench/matmul.ts [--reps 5] [--sizes 256,512,1024,2048]
import { initEngine, engineThreads, np, jit, read, tensor, type Tensor } from "../src/engine/index.ts";
import { median, pattern, flag, report } from "./stats.ts";

export const SIZES = [256, 512, 1024, 2048] as const;

const matmul = jit((a: Tensor, b: Tensor) => np.matmul(a, b)); // [n,n]·[n,n] → [n,n]

async function main(): Promise<void> {
  const reps = flag("reps", 5);
  const i = process.argv.indexOf("--sizes");
  const sizes = i < 0 ? [...SIZES] : String(process.argv[i + 1]).split(",").map(Number);
  await initEngine();
  const gflops: Record<string, number> = {};
  const readMs: Record<string, number> = {};
  for (const n of sizes) {
    const a = tensor(pattern(n * n, 1, 0.1), [n, n]);
    const b = tensor(pattern(n * n, 2, 0.1), [n, n]);
    const times: number[] = [];
    // Fewer repeats for the big sizes keeps a run short; at 2048 one product is ~0.5 s.
    const count = n >= 2048 ? Math.max(2, Math.ceil(reps / 2)) : reps * (n <= 256 ? 4 : 1);
    for (let r = 0; r < count + 1; r++) {
      const t0 = performance.now();
      const y = matmul(a.ref, b.ref);
      await read(y);
      y.dispose();
      if (r > 0) times.push(performance.now() - t0); // r = 0 compiles the kernel
    }
    // The host copy alone, for reading the small sizes: an n×n float32 read of an existing tensor.
    const copy: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await read(a);
      copy.push(performance.now() - t0);
    }
    a.dispose();
    b.dispose();
    gflops[n] = (2 * n ** 3) / (median(times) / 1000) / 1e9;
    readMs[n] = median(copy);
  }
  report({ bench: "matmul", stack: "jax-js", threads: engineThreads(), gflops, readMs });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
