// The toy training loop: K adapters of one (width, seed) trained side by side (toy-step.ts), in chunks
// that keep the [K,N,n] working set under the engine's 4 GiB heap. It emits one record per adapter
// every `logEvery` steps and at the last step, and one final record per adapter; sinks do the rest.
import { jit, np, read, refTree, tensor, type Tensor } from "../engine/index.ts";
import { mse, studentForward, zaOf } from "../models/toy.ts";
import { initialToyState, makeToyStep, type ToyOptimizer, type ToyState } from "./toy-step.ts";

/** One adapter to train: its learning rate and initial factors (PEFT layout). */
export interface ToyAdapter {
  readonly lr: number;
  readonly A0: Float32Array; // lora_A [r, n]
  readonly B0: Float32Array; // lora_B [n, r]
}

/** Frozen inputs of one (width, seed), host-side; the trainer uploads them once. */
export interface ToyData {
  readonly width: number;
  readonly r: number;
  readonly H: Tensor; // [N,n] borrowed
  readonly C: Tensor; // [N,n] borrowed
  readonly y: Tensor; // [N] borrowed
  readonly Htest: Tensor; // [Nt,n] borrowed
  readonly Ctest: Tensor; // [Nt,n] borrowed
  readonly ytest: Tensor; // [Nt] borrowed
  readonly w: Tensor; // [n] borrowed
}

export interface ToyTrainOptions {
  readonly steps: number;
  readonly logEvery: number;
  readonly optimizer: ToyOptimizer;
  /** s = α/r. */
  readonly scale: number;
  readonly divergeFactor: number;
  readonly maxChunkElems: number;
}

/** Measurements of one adapter after `step` updates (field meanings: experiments/toy/rows.ts StepRow). */
export interface ToyStepRecord {
  step: number;
  trainLoss: number;
  testLoss: number;
  rmsZA: number;
  rmsZB: number;
  delta1: number;
  delta2: number;
  delta3: number;
  dA: number;
  dB: number;
  updA: number;
  updB: number;
}

export interface ToyFinalRecord {
  steps: number;
  diverged: boolean;
  divergedAt: number | null;
  initialTrainLoss: number;
  trainLoss: number;
  testLoss: number;
  rmsZA: number;
  rmsZB: number;
  maxRmsZB: number;
  dA: number;
  dB: number;
}

export interface ToyRunResult {
  readonly steps: ToyStepRecord[];
  readonly final: ToyFinalRecord;
  /** Final factors in PEFT layout: A [r,n], B [n,r]. */
  readonly A: Float32Array;
  readonly B: Float32Array;
}

/** ‖X·Yᵀ‖²_F per adapter from r×r Gram matrices: tr((XᵀX)(YᵀY)) with xT, yT [K,r,·]. Consumes. */
function frobProd2(xT: Tensor, yT: Tensor): Tensor {
  const gx = np.matmul(xT.ref, np.transpose(xT, [0, 2, 1])); // [K,r,·]·[K,·,r] → [K,r,r]
  const gy = np.matmul(yT.ref, np.transpose(yT, [0, 2, 1])); // [K,r,r]
  return gx.mul(gy).sum([1, 2]); // both symmetric, so Σ gx∘gy = tr(gx·gy)
}

const frob = (x: Tensor): Tensor => np.sqrt(np.square(x).sum([1, 2]));

/** An adapter's factors, A [K,r,n] and Bᵀ [K,r,n]. */
type Factors = { A: Tensor; B: Tensor };

/** The frozen inputs of one (width, seed): train H, C [N,n], y [N]; test Ht, Ct [Nt,n], yt [Nt]; w [n]. */
type FrozenData = { H: Tensor; C: Tensor; w: Tensor; y: Tensor; Ht: Tensor; Ct: Tensor; yt: Tensor };

/**
 * Metrics of the current parameters against the previous ones (one-step decomposition of ΔZ_B,
 * Hayou, Ghosh & Yu 2024: δ¹ = B_{t−1}·ΔZ_A, δ² = ΔB·Z_A^{t−1}, δ³ = ΔB·ΔZ_A; RMS over train points and
 * coordinates) and the initial ones. Returns [K] vectors.
 */
function makeMetrics(scale: number) {
  return jit(
    (now: Factors, prev: Factors, init: Factors, frozen: FrozenData) => {
      const [A, B, Ap, Bp, A0, B0] = [now.A, now.B, prev.A, prev.B, init.A, init.B];
      const { H, C, w, y, Ht, Ct, yt } = frozen;
      const N = H.shape[0] as number;
      const [, r, n] = A.shape as [number, number, number];
      const train = studentForward(H.ref, C, w.ref, A.ref, B.ref, scale);
      const trainLoss = mse(train.yhat, y);
      const test = studentForward(Ht, Ct, w, A.ref, B.ref, scale);
      test.zaT.dispose();
      const testLoss = mse(test.yhat, yt);
      const zaT = train.zaT; // [K,r,N]
      const rmsZA = np.sqrt(np.square(zaT.ref).sum([1, 2]).div(N * r));
      const rmsZB = np.sqrt(frobProd2(zaT.ref, B.ref).div(N * n));
      const dzaT = zaOf(H.ref, A.ref.sub(Ap.ref)); // ΔZ_Aᵀ [K,r,N]
      const zaPrevT = zaOf(H, Ap);
      const dBt = B.ref.sub(Bp.ref); // ΔBᵀ [K,r,n]
      const delta1 = np.sqrt(frobProd2(dzaT.ref, Bp).div(N * n));
      const delta2 = np.sqrt(frobProd2(zaPrevT, dBt.ref).div(N * n));
      const delta3 = np.sqrt(frobProd2(dzaT, dBt).div(N * n));
      zaT.dispose();
      const dA = frob(A.sub(A0));
      const dB = frob(B.sub(B0));
      return [trainLoss, testLoss, rmsZA, rmsZB, delta1, delta2, delta3, dA, dB] as const;
    },
  );
}

/**
 * RMS(Z_B) of the current parameters, for the running maximum the stability edge reads: computed at
 * EVERY step (not only at logged ones) so a transient blow-up between log points is not missed.
 * Cost: one Z_A product [K,r,N] plus two r×r Grams per step.
 */
const rmsZBNow = jit((H: Tensor, A: Tensor, B: Tensor): Tensor => {
  const N = H.shape[0] as number;
  const n = A.shape[2] as number;
  return np.sqrt(frobProd2(zaOf(H, A), B).div(N * n));
});

/** [K, r, n] stack of A₀ and of B₀ᵀ (B₀ is [n, r] in PEFT layout). */
function stackFactors(adapters: readonly ToyAdapter[], r: number, n: number): { A: Float32Array; Bt: Float32Array } {
  const K = adapters.length;
  const A = new Float32Array(K * r * n);
  const Bt = new Float32Array(K * r * n);
  adapters.forEach((a, k) => {
    A.set(a.A0, k * r * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) Bt[k * r * n + j * n + i] = a.B0[i * r + j] as number;
  });
  return { A, Bt };
}

/** Train one chunk of adapters (all of the same width) and return their records. */
async function trainChunk(
  data: ToyData,
  adapters: readonly ToyAdapter[],
  opts: ToyTrainOptions,
  onStep: (done: number) => void,
): Promise<ToyRunResult[]> {
  const K = adapters.length;
  const { r, width: n } = data;
  const host = stackFactors(adapters, r, n);
  const A0 = tensor(host.A, [K, r, n]);
  const B0 = tensor(host.Bt, [K, r, n]);
  let state: ToyState = initialToyState(A0.ref, B0.ref);
  const lr = tensor(adapters.map((a) => a.lr), [K]);
  const step = makeToyStep(opts.optimizer, opts.scale, opts.divergeFactor);
  const metrics = makeMetrics(opts.scale);
  const batch = { H: data.H, C: data.C, y: data.y, w: data.w };
  const init: Factors = { A: A0, B: B0 };
  const frozen: FrozenData = {
    H: data.H, C: data.C, w: data.w, y: data.y,
    Ht: data.Htest, Ct: data.Ctest, yt: data.ytest,
  };
  const records: ToyStepRecord[][] = adapters.map(() => []);
  const nan = () => new Float32Array(K).fill(NaN);
  let upd: [Float32Array, Float32Array] = [nan(), nan()];

  const measure = async (t: number, Ap: Tensor, Bp: Tensor): Promise<Float32Array[]> => {
    const outs = metrics({ A: state.A.ref, B: state.B.ref }, { A: Ap, B: Bp }, refTree(init), refTree(frozen));
    const vals = await Promise.all(outs.map((o) => read(o)));
    for (const o of outs) o.dispose();
    const [trainLoss, testLoss, rmsZA, rmsZB, d1, d2, d3, dA, dB] = vals as [Float32Array, ...Float32Array[]];
    for (let k = 0; k < K; k++) {
      const first = t === 0;
      (records[k] as ToyStepRecord[]).push({
        step: t,
        trainLoss: trainLoss[k] as number,
        testLoss: testLoss?.[k] as number,
        rmsZA: rmsZA?.[k] as number,
        rmsZB: rmsZB?.[k] as number,
        delta1: first ? NaN : (d1?.[k] as number),
        delta2: first ? NaN : (d2?.[k] as number),
        delta3: first ? NaN : (d3?.[k] as number),
        dA: dA?.[k] as number,
        dB: dB?.[k] as number,
        updA: upd[0][k] as number,
        updB: upd[1][k] as number,
      });
    }
    return vals;
  };

  const v0 = await measure(0, state.A.ref, state.B.ref);
  const loss0Host = v0[0] as Float32Array;
  const loss0 = tensor(loss0Host, [K]);
  let maxZB = tensor(v0[3] as Float32Array, [K]);
  for (let t = 1; t <= opts.steps; t++) {
    const log = t % opts.logEvery === 0 || t === opts.steps;
    const Ap = log ? state.A.ref : undefined;
    const Bp = log ? state.B.ref : undefined;
    const out = step(state, batch, lr, t, loss0);
    state = out.state;
    out.loss.dispose();
    if (log && Ap !== undefined && Bp !== undefined) {
      upd = [await read(out.updA), await read(out.updB)];
      out.updA.dispose();
      out.updB.dispose();
      const v = await measure(t, Ap, Bp);
      maxZB = np.maximum(maxZB, tensor(v[3] as Float32Array, [K]));
    } else {
      out.updA.dispose();
      out.updB.dispose();
      maxZB = np.maximum(maxZB, rmsZBNow(batch.H.ref, state.A.ref, state.B.ref));
    }
    onStep(t);
  }
  const divergedAt = await read(state.divergedAt);
  const maxZBHost = await read(maxZB);
  const Afin = await read(state.A);
  const Btfin = await read(state.B);
  for (const x of [
    maxZB,
    loss0,
    lr,
    A0,
    B0,
    state.A,
    state.B,
    state.mA,
    state.vA,
    state.mB,
    state.vB,
    state.active,
    state.divergedAt,
  ])
    x.dispose();

  return adapters.map((_, k) => {
    const recs = records[k] as ToyStepRecord[];
    const last = recs[recs.length - 1] as ToyStepRecord;
    const initial = loss0Host[k] as number;
    let at: number | null = (divergedAt[k] as number) >= 0 ? (divergedAt[k] as number) : null;
    // The last update is judged here: its loss is only known after the loop.
    if (at === null && !(Number.isFinite(last.trainLoss) && last.trainLoss <= opts.divergeFactor * initial))
      at = opts.steps;
    const A = Afin.slice(k * r * n, (k + 1) * r * n);
    const B = new Float32Array(n * r); // back to PEFT's [n, r]
    for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) B[i * r + j] = Btfin[k * r * n + j * n + i] as number;
    return {
      steps: recs,
      A,
      B,
      final: {
        steps: opts.steps,
        diverged: at !== null,
        divergedAt: at,
        initialTrainLoss: initial,
        trainLoss: last.trainLoss,
        testLoss: last.testLoss,
        rmsZA: last.rmsZA,
        rmsZB: last.rmsZB,
        maxRmsZB: maxZBHost[k] as number,
        dA: last.dA,
        dB: last.dB,
      },
    };
  });
}

/** Largest chunk size with K·N·n ≤ maxChunkElems, evened out so chunks have (nearly) equal sizes. */
export function chunkSize(K: number, N: number, n: number, maxChunkElems: number): number {
  const cap = Math.max(1, Math.floor(maxChunkElems / (N * n)));
  const chunks = Math.ceil(K / cap);
  return Math.ceil(K / chunks);
}

/**
 * Train every adapter on the same frozen data; results come back in the adapters' order.
 * `onProgress(stepsDone)` counts adapter-steps (K·steps in total).
 */
export async function trainToyAdapters(
  data: ToyData,
  adapters: readonly ToyAdapter[],
  opts: ToyTrainOptions,
  onProgress: (adapterStepsDone: number) => void = () => {},
): Promise<ToyRunResult[]> {
  const N = data.H.shape[0] as number;
  const size = chunkSize(adapters.length, N, data.width, opts.maxChunkElems);
  const results: ToyRunResult[] = [];
  for (let i = 0; i < adapters.length; i += size) {
    const chunk = adapters.slice(i, i + size);
    const before = i * opts.steps;
    results.push(...(await trainChunk(data, chunk, opts, (t) => onProgress(before + t * chunk.length))));
  }
  return results;
}
