// One jitted training step for K LoRA adapters of the toy student trained side by side (the forward
// pass, Z_A = H·Aᵀ, u = C + s·Z_A·Bᵀ, ŷ = relu(u)·w, is models/toy.ts's studentForward), with
// loss_k = mean_N (ŷ − y)².
//
// Gradients are written by hand (test/train-toy-grad.test.ts checks them against valueAndGrad): the
// hand-written step avoids differentiating through the [K,N,n] broadcast of C and measured faster
// (bench/NOTES.md, "Toy step: hand-written against valueAndGrad": 5–7× at n = 1024 and 4096).
// Every adapter has its own learning rate, optimizer state and "active" flag. An adapter whose loss
// turns non-finite or exceeds `divergeFactor`·loss₀, or whose update would make a parameter
// non-finite, stops: its parameters and moments stay at their last values (masked with `where`),
// and the step at which that happened is kept in `divergedAt` (−1 while it trains).
import { jit, np, type Tensor } from "../engine/index.ts";
import { preact, studentForward } from "../models/toy.ts";

export type ToyOptimizer =
  | { readonly kind: "adam"; readonly beta1: number; readonly beta2: number; readonly eps: number }
  | { readonly kind: "signsgd" }
  | { readonly kind: "sgd" };

/** Per-adapter training state; all leading dimensions are K. */
export interface ToyState {
  A: Tensor; // [K,r,n]
  /** Bᵀ, stored transposed so that every adapter tensor is [K,r,n] (PEFT's lora_B is [n,r]). */
  B: Tensor; // [K,r,n]
  mA: Tensor; // [K,r,n] (zeros unless adam)
  vA: Tensor;
  mB: Tensor; // [K,r,n]
  vB: Tensor;
  active: Tensor; // [K] 1 = training, 0 = stopped
  divergedAt: Tensor; // [K] step number, −1 = never
}

/** The state before the first step: factors A, Bᵀ [K,r,n] (consumed), zero moments, all adapters active. */
export function initialToyState(A: Tensor, Bt: Tensor): ToyState {
  const [K, r, n] = A.shape as [number, number, number];
  return {
    A,
    B: Bt,
    mA: np.zeros([K, r, n]),
    vA: np.zeros([K, r, n]),
    mB: np.zeros([K, r, n]),
    vB: np.zeros([K, r, n]),
    active: np.ones([K]),
    divergedAt: np.full([K], -1),
  };
}

/** Frozen per-(width, seed) inputs of the step; borrowed (the caller keeps them). */
export interface ToyBatch {
  H: Tensor; // [N,n]
  C: Tensor; // [N,n]
  y: Tensor; // [N]
  w: Tensor; // [n]
}

export interface StepOut {
  state: ToyState;
  /** Loss of the parameters the step started from, [K]. */
  loss: Tensor;
  /** Frobenius norms of the applied updates, [K]. */
  updA: Tensor;
  updB: Tensor;
}

function frob3(x: Tensor): Tensor {
  return np.sqrt(np.square(x).sum([1, 2]));
}

/**
 * Build the step for one optimizer and scale s = α/r. Call it as `step(state, batch, lr [K], t, loss0 [K])`;
 * it consumes `state` and borrows `batch`, `lr` and `loss0`.
 *
 * The step is four jitted stages, not one: inside a single jit, jax-js fuses the recomputed
 * pre-activation into the consuming matmuls and re-evaluates it per multiply-add, which measured
 * 4× slower (n = 1024, K = 8: 199 ms against 50 ms). Stage boundaries materialise Z_A, the error
 * and s·∂loss/∂u once.
 */
export function makeToyStep(opt: ToyOptimizer, s: number, divergeFactor: number) {
  // Stage 1: forward pass, error and loss of the current parameters.
  const lossStage = jit((H: Tensor, C: Tensor, w: Tensor, y: Tensor, A: Tensor, B: Tensor) => {
    const { zaT, yhat } = studentForward(H, C, w, A, B, s); // [K,r,N], [K,N]
    const err = yhat.sub(y); // [K,N]
    const loss = np.square(err.ref).mean(1); // [K]
    return [zaT, err, loss] as const;
  });
  // Stage 2: g = s·∂loss/∂u = s·relu'(u) ∘ w ∘ (2/N)(ŷ − y) [K,N,n], the chain rule through
  // ŷ = relu(u)·w; u is recomputed (one fused kernel) rather than kept from stage 1.
  const guStage = jit((C: Tensor, w: Tensor, zaT: Tensor, B: Tensor, err: Tensor) => {
    const [K, , N] = zaT.shape as [number, number, number];
    const n = B.shape[2] as number;
    return np
      .greater(preact(C, zaT, B, s), 0)
      .astype(np.float32)
      .mul(w.reshape([1, 1, n]))
      .mul(err.mul((2 / N) * s).reshape([K, N, 1]));
  });
  // Stage 3: parameter gradients.
  const gradStage = jit((H: Tensor, zaT: Tensor, B: Tensor, gu: Tensor) => {
    const [K, r, N] = zaT.shape as [number, number, number];
    const n = B.shape[2] as number;
    const gB = np.matmul(zaT, gu.ref); // Bᵀ's gradient: [K,r,N]·[K,N,n] → [K,r,n]
    const gzaT = np.matmul(B, np.transpose(gu, [0, 2, 1])); // [K,r,n]·[K,n,N] → [K,r,N]
    const gA = np.matmul(gzaT.reshape([K * r, N]), H).reshape([K, r, n]); // [K·r,N]·[N,n] → [K,r,n]
    return [gA, gB] as const;
  });
  // Stage 4: optimizer update and divergence masking.
  const updateStage = jit(
    (
      st: ToyState,
      gA: Tensor,
      gB: Tensor,
      loss: Tensor, // [K] loss of the parameters the step started from
      lr: Tensor, // [K]
      loss0: Tensor, // [K]
      t: Tensor, // scalar: this step's number, 1-based
      bc1: Tensor, // scalar: 1 − β1^t (adam)
      bc2: Tensor, // scalar: 1 − β2^t (adam)
    ) => {
      const K = st.A.shape[0] as number;
      const lr3 = lr.reshape([K, 1, 1]);
      let uA: Tensor, uB: Tensor, mA2: Tensor, vA2: Tensor, mB2: Tensor, vB2: Tensor;
      switch (opt.kind) {
        case "adam": {
          // PyTorch Adam (torch/optim/adam.py, single-tensor path): m̂ = m/bc1, v̂ = v/bc2,
          // p ← p − lr·m̂/(√v̂ + ε).
          const upd = (g: Tensor, m: Tensor, v: Tensor) => {
            const m2 = m.mul(opt.beta1).add(g.ref.mul(1 - opt.beta1));
            const v2 = v.mul(opt.beta2).add(np.square(g).mul(1 - opt.beta2));
            const u = m2.ref.div(bc1.ref).div(np.sqrt(v2.ref.div(bc2.ref)).add(opt.eps)).mul(lr3.ref);
            return [u, m2, v2] as const;
          };
          [uA, mA2, vA2] = upd(gA, st.mA.ref, st.vA.ref);
          [uB, mB2, vB2] = upd(gB, st.mB.ref, st.vB.ref);
          break;
        }
        case "signsgd":
          uA = np.sign(gA).mul(lr3.ref);
          uB = np.sign(gB).mul(lr3.ref);
          [mA2, vA2, mB2, vB2] = [st.mA.ref, st.vA.ref, st.mB.ref, st.vB.ref];
          break;
        case "sgd":
          uA = gA.mul(lr3.ref);
          uB = gB.mul(lr3.ref);
          [mA2, vA2, mB2, vB2] = [st.mA.ref, st.vA.ref, st.mB.ref, st.vB.ref];
          break;
        default: {
          const never: never = opt;
          throw new Error(`unknown optimizer ${String(never)}`);
        }
      }
      lr3.dispose();
      bc1.dispose();
      bc2.dispose();
      const A2 = st.A.ref.sub(uA.ref);
      const B2 = st.B.ref.sub(uB.ref);
      // Divergence: judged on the loss the step started from, and on the finiteness of the result.
      const lossOk = np
        .isfinite(loss.ref)
        .astype(np.float32)
        .mul(np.lessEqual(loss, loss0.mul(divergeFactor)).astype(np.float32));
      const finite = np
        .isfinite(A2.ref)
        .astype(np.float32)
        .min([1, 2])
        .mul(np.isfinite(B2.ref).astype(np.float32).min([1, 2]));
      const ok = st.active.ref.mul(lossOk).mul(finite); // [K]
      const stopped = st.active.sub(ok.ref); // 1 where the adapter stops at this step
      const keep = np.greater(ok.ref, 0).reshape([K, 1, 1]);
      const sel = (a: Tensor, b: Tensor) => np.where(keep.ref, a, b);
      const next = {
        A: sel(A2, st.A),
        B: sel(B2, st.B),
        mA: sel(mA2, st.mA),
        vA: sel(vA2, st.vA),
        mB: sel(mB2, st.mB),
        vB: sel(vB2, st.vB),
        active: ok.ref,
        divergedAt: np.where(np.greater(stopped, 0), t, st.divergedAt),
      };
      keep.dispose();
      const updA = frob3(uA).mul(ok.ref);
      const updB = frob3(uB).mul(ok);
      return [next, updA, updB] as const;
    },
  ) as unknown as (...args: [ToyState, ...Tensor[]]) => readonly [ToyState, Tensor, Tensor];
  return (state: ToyState, batch: ToyBatch, lr: Tensor, t: number, loss0: Tensor): StepOut => {
    const b1 = opt.kind === "adam" ? opt.beta1 : 0;
    const b2 = opt.kind === "adam" ? opt.beta2 : 0;
    const [zaT, err, loss] = lossStage(batch.H.ref, batch.C.ref, batch.w.ref, batch.y.ref, state.A.ref, state.B.ref);
    const gu = guStage(batch.C.ref, batch.w.ref, zaT.ref, state.B.ref, err);
    const [gA, gB] = gradStage(batch.H.ref, zaT, state.B.ref, gu);
    const [next, updA, updB] = updateStage(
      state,
      gA,
      gB,
      loss.ref,
      lr.ref,
      loss0.ref,
      np.array(t),
      np.array(1 - b1 ** t),
      np.array(1 - b2 ** t),
    );
    return { state: next, loss, updA, updB };
  };
}
