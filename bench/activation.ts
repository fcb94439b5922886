// Gradient of an activation between two frozen matmuls, jax-js's activations vs nn/activation.ts.
// Kernel time (jax-js profiler) of one jitted gradient of
//   loss(A) = mean((act((x + x·Aᵀ·A)·W1ᵀ)·W2ᵀ)²),  x [1024,256], W1 [1024,256], W2 [256,1024], A [8,256]
// shows what the backward costs when jit fuses the activation's derivative into the next matmul
// (the jax-js column) and when it does not (nn column); see bench/NOTES.md.
//
//   node --import tsx bench/activation.ts
import { initEngine, np, jnn, jit, grad, tensor, read, profileKernels, type Tensor } from "../src/engine/index.ts";
import { relu, tanh, gelu } from "../src/nn/activation.ts";
import { pattern, report } from "./stats.ts";

const [N, d, n] = [1024, 256, 1024];

async function main(): Promise<void> {
  await initEngine();
  const x = tensor(pattern(N * d, 1, 1), [N, d]);
  const W1 = tensor(pattern(n * d, 2, 0.06), [n, d]);
  const W2 = tensor(pattern(d * n, 3, 0.03), [d, n]);
  const A = tensor(pattern(8 * d, 4, 0.06), [8, d]);
  const acts: Record<string, (z: Tensor) => Tensor> = {
    "relu jax-js": (z) => jnn.relu(z), "relu nn": relu,
    "tanh jax-js": (z) => np.tanh(z), "tanh nn": tanh,
    "gelu jax-js": (z) => jnn.gelu(z), "gelu nn": gelu,
  };
  const ms: Record<string, number> = {};
  for (const [name, act] of Object.entries(acts)) {
    const g = jit(grad((a: Tensor, x: Tensor, w1: Tensor, w2: Tensor) => {
      const h = x.ref.add(np.matmul(np.matmul(x, a.ref.transpose()), a)); // [N,d]·[d,8]·[8,d] → [N,d]
      // [N,d]·[d,n] → [N,n]·[n,d] → [N,d]
      return np.square(np.matmul(act(np.matmul(h, w1.transpose())), w2.transpose())).mean();
    }));
    const run = async (): Promise<void> => {
      const y = g(A.ref, x.ref, W1.ref, W2.ref);
      await read(y);
      y.dispose();
    };
    await run(); // compiles
    const { kernels } = await profileKernels(run);
    ms[name] = kernels.reduce((s, k) => s + k.ms, 0);
  }
  report({ bench: "activation-grad", kernelMs: ms });
}

await main();
