// The toy teacher–student model of the reproduction ("sp, perturbed teacher" protocol of
// docs/toy-protocol.md, which fills the gaps of Hayou, Ghosh & Yu 2024's toy experiment).
//
//   teacher (width m):  y = w_t·relu(W_h,t·relu(W_in,t·x)),  x ~ N(0, I_d), weights N(0, 1/fan_in)
//   task A:             teacher output, standardised (mean 0, variance 1 over task A's points)
//   task B:             the teacher with W_h,t → W_h,t + P·Q (rank r), fresh inputs, same standardisation
//   student (width n):  h = relu(W_in x),  u = W_h h + s·B·A·h,  y = w·relu(u)
//
// W_in and W_h stay random ("sp": N(0, 1/d), N(0, 1/n)); "pretraining" is a ridge fit of the
// readout w on task A, starting from w₀: w = w₀ + Gᵀ(GGᵀ + λI)⁻¹(y_A − G w₀), G = relu(W_h relu(W_in x)),
// λ = ridge·tr(GGᵀ)/N (toy-protocol.md "Model and protocol"). Only A and B are finetuned, on task B.
//
// Randomness is folded by name from the seed's root key, so the teacher, the data and the width-n
// base model are the same for every adapter init and learning rate: the adapter init is the only difference.
import { np, readAndDispose, tensor, type Tensor } from "../engine/index.ts";
import { prng, type Key } from "../core/index.ts";

/** The protocol fields the model needs (a subset of the experiment spec). */
export interface ToyModelConfig {
  readonly inputDim: number;
  readonly teacherWidth: number;
  readonly nTrain: number;
  readonly nTest: number;
  readonly r: number;
  readonly readoutInit: "sp" | "mup";
  readonly ridge: number;
}

/** Host-side data of both tasks (row-major float32). */
export interface ToyTasks {
  /** Task A inputs [nTrain, d] and standardised targets [nTrain] (for the readout fit). */
  readonly xA: Float32Array;
  readonly yA: Float32Array;
  /** Task B inputs [nTrain + nTest, d] and targets: the first nTrain rows train, the rest test. */
  readonly xB: Float32Array;
  readonly yB: Float32Array;
}

/** The frozen student of one width, with task B's features precomputed. */
export interface ToyBase {
  readonly width: number;
  readonly wIn: Float32Array; // [n, d]
  readonly wH: Float32Array; // [n, n]
  readonly w: Float32Array; // [n] fitted readout
}

/** y = w·relu(W_h relu(W_in x)) on the host in float64: x [N,d], wIn [m,d], wH [m,m], w [m] → [N]. */
function teacherForward(
  x: Float32Array,
  d: number,
  wIn: Float64Array,
  wH: Float64Array,
  w: Float64Array,
): Float64Array {
  const m = w.length;
  const N = x.length / d;
  const out = new Float64Array(N);
  const h = new Float64Array(m);
  for (let i = 0; i < N; i++) {
    for (let a = 0; a < m; a++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += (wIn[a * d + k] as number) * (x[i * d + k] as number);
      h[a] = acc > 0 ? acc : 0;
    }
    let y = 0;
    for (let a = 0; a < m; a++) {
      let acc = 0;
      for (let b = 0; b < m; b++) acc += (wH[a * m + b] as number) * (h[b] as number);
      if (acc > 0) y += (w[a] as number) * acc;
    }
    out[i] = y;
  }
  return out;
}

const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

/** Teacher, task A and task B data of one seed: depends on fold(root, "teacher") and fold(root, "data") only. */
export function makeToyTasks(cfg: ToyModelConfig, root: Key): ToyTasks {
  const d = cfg.inputDim;
  const m = cfg.teacherWidth;
  const r = cfg.r;
  const N = cfg.nTrain + cfg.nTest;
  const tk = prng.fold(root, "teacher");
  const wIn = f64(prng.normal(prng.fold(tk, "W_in"), [m, d], 1 / Math.sqrt(d)));
  const wH = f64(prng.normal(prng.fold(tk, "W_h"), [m, m], 1 / Math.sqrt(m)));
  const wOut = f64(prng.normal(prng.fold(tk, "w"), [m], 1 / Math.sqrt(m)));
  const P = prng.normal(prng.fold(tk, "P"), [m, r], 1 / Math.sqrt(r)); // [m, r]
  const Q = prng.normal(prng.fold(tk, "Q"), [r, m], 1 / Math.sqrt(m)); // [r, m]
  const dk = prng.fold(root, "data");
  const xAll = prng.normal(prng.fold(dk, "A"), [N, d]);
  const xB = prng.normal(prng.fold(dk, "B"), [N, d]);

  const yAll = teacherForward(xAll, d, wIn, wH, wOut);
  let mu = 0;
  for (const v of yAll) mu += v;
  mu /= N;
  let ss = 0;
  for (const v of yAll) ss += (v - mu) ** 2;
  const sd = Math.sqrt(ss / (N - 1)); // torch.std: unbiased
  // Task B's hidden matrix W_h + P·Q: [m,r]·[r,m] → [m,m], an O(1) relative rank-r change.
  const wHB = Float64Array.from(wH);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += (P[a * r + k] as number) * (Q[k * m + b] as number);
      wHB[a * m + b] = (wHB[a * m + b] as number) + acc;
    }
  }
  const yBraw = teacherForward(xB, d, wIn, wHB, wOut);
  const yA = new Float32Array(cfg.nTrain);
  for (let i = 0; i < cfg.nTrain; i++) yA[i] = ((yAll[i] as number) - mu) / sd;
  const yB = Float32Array.from(yBraw, (v) => (v - mu) / sd);
  return { xA: xAll.slice(0, cfg.nTrain * d), yA, xB, yB };
}

/** In-place Cholesky solve of (K + λI)·α = b for a symmetric positive definite [N,N] float64 K. */
export function choleskySolve(K: Float64Array, N: number, lambda: number, b: Float64Array): Float64Array {
  const L = K; // overwritten by its Cholesky factor (lower triangle)
  for (let j = 0; j < N; j++) {
    let diag = (L[j * N + j] as number) + lambda;
    for (let k = 0; k < j; k++) diag -= (L[j * N + k] as number) ** 2;
    if (!(diag > 0)) throw new Error(`ridge system is not positive definite at row ${j}`);
    const ljj = Math.sqrt(diag);
    L[j * N + j] = ljj;
    for (let i = j + 1; i < N; i++) {
      let acc = L[i * N + j] as number;
      const ri = i * N;
      const rj = j * N;
      for (let k = 0; k < j; k++) acc -= (L[ri + k] as number) * (L[rj + k] as number);
      L[i * N + j] = acc / ljj;
    }
  }
  const z = Float64Array.from(b);
  for (let i = 0; i < N; i++) {
    let acc = z[i] as number;
    for (let k = 0; k < i; k++) acc -= (L[i * N + k] as number) * (z[k] as number);
    z[i] = acc / (L[i * N + i] as number);
  }
  for (let i = N - 1; i >= 0; i--) {
    let acc = z[i] as number;
    for (let k = i + 1; k < N; k++) acc -= (L[k * N + i] as number) * (z[k] as number);
    z[i] = acc / (L[i * N + i] as number);
  }
  return z;
}

/** H = relu(X·W_inᵀ) [N,n] and C = H·W_hᵀ [N,n] on the engine. Consumes nothing it is not given. */
export function toyFeatures(
  x: Float32Array,
  base: Pick<ToyBase, "width" | "wIn" | "wH">,
  d: number,
): { H: Tensor; C: Tensor } {
  const n = base.width;
  const N = x.length / d;
  const H = np.maximum(np.matmul(tensor(x, [N, d]), np.transpose(tensor(base.wIn, [n, d]))), 0); // [N,d]·[d,n] → [N,n]
  const C = np.matmul(H.ref, np.transpose(tensor(base.wH, [n, n]))); // [N,n]·[n,n] → [N,n]
  return { H, C };
}

/** The width-n student of one seed, its readout fitted on task A: depends on fold(root, "base:"+n). */
export async function makeToyBase(cfg: ToyModelConfig, root: Key, tasks: ToyTasks, n: number): Promise<ToyBase> {
  const d = cfg.inputDim;
  const N = cfg.nTrain;
  const bk = prng.fold(root, `base:${n}`);
  const wIn = prng.normal(prng.fold(bk, "W_in"), [n, d], 1 / Math.sqrt(d));
  const wH = prng.normal(prng.fold(bk, "W_h"), [n, n], 1 / Math.sqrt(n));
  const w0 = prng.normal(prng.fold(bk, "w"), [n], cfg.readoutInit === "sp" ? 1 / Math.sqrt(n) : 1 / n);
  const { H, C } = toyFeatures(tasks.xA, { width: n, wIn, wH }, d);
  H.dispose();
  const G = np.maximum(C, 0); // [N,n]
  const gram = np.matmul(G.ref, np.transpose(G.ref)); // [N,n]·[n,N] → [N,N]
  const g = await readAndDispose(G);
  const K = Float64Array.from(await readAndDispose(gram));
  let trace = 0;
  for (let i = 0; i < N; i++) trace += K[i * N + i] as number;
  const lambda = (cfg.ridge * trace) / N;
  const resid = new Float64Array(N); // y_A − G·w₀
  for (let i = 0; i < N; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += (g[i * n + j] as number) * (w0[j] as number);
    resid[i] = (tasks.yA[i] as number) - acc;
  }
  const alpha = choleskySolve(K, N, lambda, resid);
  const w = new Float64Array(w0); // w₀ + Gᵀα: [n,N]·[N] → [n]
  for (let i = 0; i < N; i++) {
    const ai = alpha[i] as number;
    for (let j = 0; j < n; j++) w[j] = (w[j] as number) + (g[i * n + j] as number) * ai;
  }
  return { width: n, wIn, wH, w: Float32Array.from(w) };
}

// ---- The adapted student on the engine, K adapters side by side ----
//
// The frozen part of the student is the same for every adapter of one (width, seed), so H = relu(W_in x)
// [N,n] and C = H·W_hᵀ [N,n] are computed once (toyFeatures), and a forward pass costs O(K·N·n·r):
//
//   Z_A = H·Aᵀ            [K,N,r]      u = C + s·Z_A·Bᵀ   [K,N,n]      ŷ = relu(u)·w   [K,N]
//
// (Z_A is kept transposed, [K,r,N], and B as Bᵀ [K,r,n], so every contraction is a plain matmul.)
// relu is np.maximum(u, 0), not nn/activation's relu: the latter's value is relu(u) + relu'(u)·(u − u),
// which is NaN where a diverging run's u is infinite (the rows would record NaN losses for Inf).

/**
 * The pre-activation u = C + s·Z_A·Bᵀ [K,N,n], written as r broadcast products so that jax-js fuses
 * it into one elementwise kernel (a batched matmul with inner size r measured 2× slower, and fusing it
 * into the readout 8× slower). zaT is Z_Aᵀ [K,r,N], Bt is Bᵀ [K,r,n]. Consumes its arguments.
 */
export function preact(C: Tensor, zaT: Tensor, Bt: Tensor, s: number): Tensor {
  const [K, r, N] = zaT.shape as [number, number, number];
  const n = Bt.shape[2] as number;
  let u = C.reshape([1, N, n]);
  for (let j = 0; j < r; j++) {
    const zj = zaT.ref.slice([], j).reshape([K, N, 1]); // [K,N,1]
    const bj = Bt.ref.slice([], j).reshape([K, 1, n]); // [K,1,n]
    u = u.add(zj.mul(bj).mul(s)); // → [K,N,n]
  }
  zaT.dispose();
  Bt.dispose();
  return u;
}

/** Z_Aᵀ = A·Hᵀ for all adapters in one 2-D matmul: [K·r,n]·[n,N] → [K·r,N] → [K,r,N]. Consumes. */
export function zaOf(H: Tensor, A: Tensor): Tensor {
  const [K, r, n] = A.shape as [number, number, number];
  const N = H.shape[0] as number;
  return np.matmul(A.reshape([K * r, n]), np.transpose(H)).reshape([K, r, N]);
}

/** Forward pass: Z_Aᵀ [K,r,N] and ŷ [K,N]. Consumes everything. */
export function studentForward(H: Tensor, C: Tensor, w: Tensor, A: Tensor, Bt: Tensor, s: number) {
  const zaT = zaOf(H, A);
  const n = Bt.shape[2] as number;
  const yhat = np.maximum(preact(C, zaT.ref, Bt, s), 0).mul(w.reshape([1, 1, n])).sum(2); // Σ_j relu(u)_j·w_j → [K,N]
  return { zaT, yhat };
}

/** Mean squared error per adapter, [K]. Consumes its arguments. */
export function mse(yhat: Tensor, y: Tensor): Tensor {
  return np.square(yhat.sub(y)).mean(1);
}
