import { initEngine, np, read, tensor, type Tensor } from "./src/engine/index.ts";
await initEngine();
const x = tensor(new Float32Array(1536 * 512).map(() => Math.random()), [32, 48, 512]);
const w = tensor(new Float32Array(1536 * 512).map(() => Math.random()), [1536, 512]);
const wt = tensor(new Float32Array(1536 * 512).map(() => Math.random()), [512, 1536]);
const cases: Record<string, () => Tensor> = {
  "3d W.T": () => np.matmul(x.ref, w.ref.transpose()),
  "2d W.T": () => np.matmul(x.ref.reshape([1536, 512]), w.ref.transpose()),
  "3d Wt": () => np.matmul(x.ref, wt.ref),
  "2d Wt": () => np.matmul(x.ref.reshape([1536, 512]), wt.ref),
  "einsum": () => np.einsum("bli,oi->blo", x.ref, w.ref),
};
for (let rep = 0; rep < 3; rep++) for (const [k, f] of Object.entries(cases)) {
  const t0 = performance.now(); const y = f(); await read(y); y.dispose();
  const ms = performance.now() - t0; console.log(rep, k, ms.toFixed(0), "GFLOP/s", (2 * 1536 * 512 * 1536 / ms / 1e6).toFixed(1));
}
