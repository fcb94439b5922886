import { initEngine, np, jnn, jit, grad, tensor, read, profileKernels, withDerivative, type Tensor } from "../src/engine/index.ts";
import { pattern } from "./stats.ts";
await initEngine();
const [N, d, n] = [1024, 256, 1024];
const x = tensor(pattern(N * d, 1, 1), [N, d]), W1 = tensor(pattern(n * d, 2, 0.06), [n, d]), W2 = tensor(pattern(d * n, 3, 0.03), [d, n]);
const A = tensor(pattern(8 * d, 4, 0.06), [8, d]);
const acts: Record<string, (z: Tensor) => Tensor> = {
  relu: (z) => jnn.relu(z),
  reluD: (z) => withDerivative(z, (u) => [jnn.relu(u.ref), u.greater(0).astype(np.float32)]),
  tanh: (z) => np.tanh(z),
  tanhD: (z) => withDerivative(z, (u) => { const t = np.tanh(u); return [t.ref, np.square(t).neg().add(1)]; }),
};
for (const [name, act] of Object.entries(acts)) {
  // loss(A) = mean((act((x + x·Aᵀ·A)·W1ᵀ)·W2ᵀ)²): the activation sits between two frozen matmuls.
  const g = jit(grad((a: Tensor, x: Tensor, w1: Tensor, w2: Tensor) => {
    const h = x.ref.add(np.matmul(np.matmul(x, a.ref.transpose()), a)); // [N,d]·[d,8]·[8,d] → [N,d]
    return np.square(np.matmul(act(np.matmul(h, w1.transpose())), w2.transpose())).mean(); // [N,n]·[n,d]
  }));
  const run = async () => { const y = g(A.ref, x.ref, W1.ref, W2.ref); const v = await read(y); y.dispose(); return v; };
  const v0 = await run();
  const { kernels } = await profileKernels(run);
  const top = [...kernels].sort((a, b) => b.ms - a.ms)[0]!;
  console.log(name, "grad[0]", v0[0], "kernels", kernels.length, "ms", kernels.reduce((a, k) => a + k.ms, 0).toFixed(1), "slowest", top.ms.toFixed(1), top.reduction);
}
