// Where one batched toy step's time goes: the step's four stages (re-built here from toy-step.ts's
// exported pieces, same expressions) timed one by one, plus the whole `makeToyStep` step, at one
// (n, K). Random tensors; completion forced with blockUntilReady; median of reps after a warm-up.
//
//   LORASCOPE_THREADS=1 node --import tsx bench/toy-stages.ts --width 1024 --k 24 [--reps 5]
import { initEngine, np, jit, tensor, blockUntilReady, type Tensor } from "../src/engine/index.ts";
import { preact, zaOf } from "../src/models/toy.ts";
import { makeToyStep, type ToyState } from "../src/train/toy-step.ts";
import { median, pattern, flag, report } from "./stats.ts";

const n = flag("width", 1024);
const K = flag("k", 24);
const reps = flag("reps", 5);
const N = 1000;
const r = 4;
const s = 1;
await initEngine();

const H = tensor(pattern(N * n, 1, 1).map(Math.abs), [N, n]);
const C = tensor(pattern(N * n, 2, 1), [N, n]);
const w = tensor(pattern(n, 3, 1 / Math.sqrt(n)), [n]);
const y = tensor(pattern(N, 4, 1), [N]);
const A = tensor(pattern(K * r * n, 5, 1 / Math.sqrt(n)), [K, r, n]);
const B = tensor(pattern(K * r * n, 6, 0.1), [K, r, n]);

const stage1 = jit((H: Tensor, C: Tensor, w: Tensor, y: Tensor, A: Tensor, B: Tensor) => {
  const zaT = zaOf(H, A); // [K,r,N]
  const yhat = np.maximum(preact(C, zaT.ref, B, s), 0).mul(w.reshape([1, 1, n])).sum(2); // [K,N]
  const err = yhat.sub(y);
  return [zaT, err, np.square(err.ref).mean(1)] as const;
});
const zaOnly = jit((H: Tensor, A: Tensor) => zaOf(H, A));
const uOnly = jit((C: Tensor, zaT: Tensor, B: Tensor) => preact(C, zaT, B, s)); // materialises [K,N,n]
const readout = jit((u: Tensor, w: Tensor) => np.maximum(u, 0).mul(w.reshape([1, 1, n])).sum(2)); // [K,N,n] → [K,N]
const stage2 = jit((C: Tensor, w: Tensor, zaT: Tensor, B: Tensor, err: Tensor) =>
  np
    .greater(preact(C, zaT, B, s), 0)
    .astype(np.float32)
    .mul(w.reshape([1, 1, n]))
    .mul(err.mul((2 / N) * s).reshape([K, N, 1])),
);
// Alternatives (not in toy-step.ts): stage 2 from a stored u, and u as a batched matmul with inner size r.
const stage2FromU = jit((u: Tensor, w: Tensor, err: Tensor) =>
  np.greater(u, 0).astype(np.float32).mul(w.reshape([1, 1, n])).mul(err.mul((2 / N) * s).reshape([K, N, 1])),
);
// [K,N,r]·[K,r,n] + C
const uMatmul = jit((C: Tensor, zaT: Tensor, B: Tensor) => np.matmul(np.transpose(zaT, [0, 2, 1]), B).mul(s).add(C));
const gBk = jit((zaT: Tensor, gu: Tensor) => np.matmul(zaT, gu)); // [K,r,N]·[K,N,n]
const gzaK = jit((B: Tensor, gu: Tensor) => np.matmul(B, np.transpose(gu, [0, 2, 1]))); // [K,r,n]·[K,n,N]
const gAk = jit((gzaT: Tensor, H: Tensor) => np.matmul(gzaT.reshape([K * r, N]), H)); // [K·r,N]·[N,n]

async function time(fn: () => Tensor | readonly Tensor[]): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const out = fn();
    const list = Array.isArray(out) ? (out as readonly Tensor[]) : [out as Tensor];
    for (const o of list) await blockUntilReady(o);
    if (i > 0) ts.push(performance.now() - t0);
    for (const o of list) o.dispose();
  }
  return median(ts);
}

const [zaT, err, loss] = stage1(H.ref, C.ref, w.ref, y.ref, A.ref, B.ref);
loss.dispose();
const gu = stage2(C.ref, w.ref, zaT.ref, B.ref, err.ref);
const gzaT = gzaK(B.ref, gu.ref);
const ms: Record<string, number> = {};
ms["stage1 (Z_A, fused u→relu·w→sum)"] = await time(() => stage1(H.ref, C.ref, w.ref, y.ref, A.ref, B.ref));
ms["  Z_A = A·Hᵀ alone"] = await time(() => zaOnly(H.ref, A.ref));
ms["  u = C + s·Z_A·Bᵀ materialised alone"] = await time(() => uOnly(C.ref, zaT.ref, B.ref));
const u = uOnly(C.ref, zaT.ref, B.ref);
ms["  relu(u)·w summed over n, from stored u"] = await time(() => readout(u.ref, w.ref));
ms["  alt: stage 2 from stored u (no recompute)"] = await time(() => stage2FromU(u.ref, w.ref, err.ref));
ms["  alt: u as batched matmul, inner r"] = await time(() => uMatmul(C.ref, zaT.ref, B.ref));
u.dispose();
ms["stage2 (gu [K,N,n])"] = await time(() => stage2(C.ref, w.ref, zaT.ref, B.ref, err.ref));
ms["stage3 gB = Z_Aᵀ·gu"] = await time(() => gBk(zaT.ref, gu.ref));
ms["stage3 ∂Z_A = Bᵀ·guᵀ"] = await time(() => gzaK(B.ref, gu.ref));
ms["stage3 gA = ∂Z_A·H"] = await time(() => gAk(gzaT.ref, H.ref));

// The whole step as the trainer calls it (Adam, masks included).
const step = makeToyStep({ kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8 }, s, 100);
const zeros = () => np.zeros([K, r, n]);
let st: ToyState = {
  A: A.ref,
  B: B.ref,
  mA: zeros(),
  vA: zeros(),
  mB: zeros(),
  vB: zeros(),
  active: np.ones([K]),
  divergedAt: np.full([K], -1),
};
const lr = tensor(new Float32Array(K).fill(1e-3), [K]);
const loss0 = tensor(new Float32Array(K).fill(1e9), [K]);
const whole: number[] = [];
for (let t = 1; t <= reps + 1; t++) {
  const t0 = performance.now();
  const o = step(st, { H, C, y, w }, lr, t, loss0);
  st = o.state;
  await blockUntilReady(st.A);
  await blockUntilReady(o.updB);
  if (t > 1) whole.push(performance.now() - t0);
  for (const x of [o.loss, o.updA, o.updB]) x.dispose();
}
ms["whole step (makeToyStep)"] = median(whole);
const E = K * N * n;
report({
  bench: "toy-stages",
  width: n,
  K,
  E,
  ms,
  nsPerElement: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, (v * 1e6) / E])),
});
