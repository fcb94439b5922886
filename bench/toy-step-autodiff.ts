// The hand-written toy step (src/train/toy-step.ts: four jitted stages, gradients by hand) against
// the same step built the plain way: one jit of valueAndGrad through the student's forward pass with
// nn/activation's relu, the Adam direction from the optim transforms (scaleByAdam), and the same
// per-adapter learning rates, divergence masking and update norms. Same inputs for both; the two are
// timed alternately in one process (the machine is shared, so side by side beats two runs apart).
// K is what the toy trainer's default chunk holds at each width (maxChunkElems = 2^25, N = 1000):
// 32 adapters at n = 1024, 8 at n = 4096.
//
//   node --import tsx bench/toy-step-autodiff.ts [--reps 7] [--steps 3]
import { initEngine, jit, np, read, refTree, tensor, valueAndGrad, type Tensor } from "../src/engine/index.ts";
import { mse, preact, zaOf } from "../src/models/toy.ts";
import { relu } from "../src/nn/activation.ts";
import { scaleByAdam, type AdamMoments } from "../src/optim/transforms.ts";
import { initialToyState, makeToyStep, type StepOut, type ToyBatch, type ToyState } from "../src/train/toy-step.ts";
import { flag, median, pattern, report } from "./stats.ts";

const [N, r, s, divergeFactor] = [1000, 4, 1, 1e6];
const ADAM = { kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

type AutodiffState = {
  A: Tensor; // [K,r,n]
  B: Tensor; // Bᵀ [K,r,n]
  adam: AdamMoments;
  active: Tensor; // [K]
  divergedAt: Tensor; // [K]
};

/** Per-adapter loss [K] of the student with nn/activation's relu (its backward is one multiply). */
function lossK(p: { A: Tensor; B: Tensor }, H: Tensor, C: Tensor, w: Tensor, y: Tensor): Tensor {
  const n = p.A.shape[2] as number;
  const yhat = relu(preact(C, zaOf(H, p.A), p.B, s)).mul(w.reshape([1, 1, n])).sum(2); // [K,N,n] → [K,N]
  return mse(yhat, y);
}

function makeAutodiffStep() {
  const adam = scaleByAdam(ADAM.beta1, ADAM.beta2, ADAM.eps);
  // The sum over adapters has the per-adapter gradients (adapters share no parameter).
  const vg = valueAndGrad(
    (p: { A: Tensor; B: Tensor }, H: Tensor, C: Tensor, w: Tensor, y: Tensor) => {
      const l = lossK(p, H, C, w, y);
      return [l.ref.sum(), l] as [Tensor, Tensor];
    },
    { hasAux: true },
  );
  const frob3 = (x: Tensor) => np.sqrt(np.square(x).sum([1, 2]));
  const step = jit(
    (st: AutodiffState, H: Tensor, C: Tensor, w: Tensor, y: Tensor, lr: Tensor, loss0: Tensor, t: Tensor) => {
      const K = st.A.shape[0] as number;
      const [[total, loss], g] = vg({ A: st.A.ref, B: st.B.ref }, H, C, w, y);
      total.dispose();
      const count = t.ref.sub(1); // updates applied before this one (optim's step number)
      const [dir, moments] = adam.update(g, refTree(st.adam), { A: st.A, B: st.B }, count); // borrows params and count
      count.dispose();
      const lr3 = lr.reshape([K, 1, 1]);
      const uA = (dir["A"] as Tensor).mul(lr3.ref);
      const uB = (dir["B"] as Tensor).mul(lr3);
      const A2 = st.A.ref.sub(uA.ref);
      const B2 = st.B.ref.sub(uB.ref);
      const lossOk = np
        .isfinite(loss.ref)
        .astype(np.float32)
        .mul(np.lessEqual(loss.ref, loss0.mul(divergeFactor)).astype(np.float32));
      const finite = np
        .isfinite(A2.ref)
        .astype(np.float32)
        .min([1, 2])
        .mul(np.isfinite(B2.ref).astype(np.float32).min([1, 2]));
      const ok = st.active.ref.mul(lossOk).mul(finite); // [K]
      const stopped = st.active.sub(ok.ref);
      const keep = np.greater(ok.ref, 0).reshape([K, 1, 1]);
      const sel = (a: Tensor, b: Tensor) => np.where(keep.ref, a, b);
      const old = st.adam;
      const next: AutodiffState = {
        A: sel(A2, st.A),
        B: sel(B2, st.B),
        adam: {
          mu: {
            A: sel(moments.mu["A"] as Tensor, old.mu["A"] as Tensor),
            B: sel(moments.mu["B"] as Tensor, old.mu["B"] as Tensor),
          },
          nu: {
            A: sel(moments.nu["A"] as Tensor, old.nu["A"] as Tensor),
            B: sel(moments.nu["B"] as Tensor, old.nu["B"] as Tensor),
          },
        },
        active: ok.ref,
        divergedAt: np.where(np.greater(stopped, 0), t, st.divergedAt),
      };
      keep.dispose();
      return [next, loss, frob3(uA).mul(ok.ref), frob3(uB).mul(ok)] as const;
    },
  ) as unknown as (st: AutodiffState, ...rest: Tensor[]) => readonly [AutodiffState, Tensor, Tensor, Tensor];
  return step;
}

function disposeAll(xs: Tensor[]): void {
  for (const x of xs) x.dispose();
}

async function main(): Promise<void> {
  await initEngine();
  const reps = flag("reps", 7);
  const steps = flag("steps", 3);
  const results: Record<string, unknown>[] = [];
  for (const n of [1024, 4096]) {
    const K = Math.min(32, Math.floor(2 ** 25 / (N * n)));
    const batch: ToyBatch = {
      H: np.maximum(tensor(pattern(N * n, 1, 1), [N, n]), 0),
      C: tensor(pattern(N * n, 2, 1), [N, n]),
      y: tensor(pattern(N, 3, 1), [N]),
      w: tensor(pattern(n, 4, 1 / Math.sqrt(n)), [n]),
    };
    const A0 = pattern(K * r * n, 5, 1 / Math.sqrt(n));
    const B0 = pattern(K * r * n, 6, 0.1);
    const lrs = Float32Array.from({ length: K }, (_, k) => 1e-4 * 2 ** (k % 8));
    const lr = tensor(lrs, [K]);
    const loss0 = tensor(new Float32Array(K).fill(1e3), [K]);
    const zeros = () => tensor(new Float32Array(K * r * n), [K, r, n]);
    const freshHand = (): ToyState => initialToyState(tensor(A0, [K, r, n]), tensor(B0, [K, r, n]));
    const freshAuto = (): AutodiffState => ({
      A: tensor(A0, [K, r, n]),
      B: tensor(B0, [K, r, n]),
      adam: { mu: { A: zeros(), B: zeros() }, nu: { A: zeros(), B: zeros() } },
      active: tensor(new Float32Array(K).fill(1), [K]),
      divergedAt: tensor(new Float32Array(K).fill(-1), [K]),
    });
    const hand = makeToyStep(ADAM, s, divergeFactor);
    const auto = makeAutodiffStep();

    // `steps` steps from the same start; returns the seconds and the final A (host) for the comparison.
    const runHand = async (): Promise<{ sec: number; A: Float32Array }> => {
      let st = freshHand();
      const t0 = performance.now();
      let last: StepOut | undefined;
      for (let t = 1; t <= steps; t++) {
        if (last !== undefined) disposeAll([last.loss, last.updA, last.updB]);
        last = hand(st, batch, lr, t, loss0);
        st = last.state;
      }
      await read(st.A);
      const sec = (performance.now() - t0) / 1000;
      const A = await read(st.A);
      if (last !== undefined) disposeAll([last.loss, last.updA, last.updB]);
      disposeAll([st.A, st.B, st.mA, st.vA, st.mB, st.vB, st.active, st.divergedAt]);
      return { sec, A };
    };
    const runAuto = async (): Promise<{ sec: number; A: Float32Array }> => {
      let st = freshAuto();
      const t0 = performance.now();
      let outs: Tensor[] = [];
      for (let t = 1; t <= steps; t++) {
        disposeAll(outs);
        const [next, loss, updA, updB] = auto(
          st,
          batch.H.ref,
          batch.C.ref,
          batch.w.ref,
          batch.y.ref,
          lr.ref,
          loss0.ref,
          np.array(t),
        );
        st = next;
        outs = [loss, updA, updB];
      }
      await read(st.A);
      const sec = (performance.now() - t0) / 1000;
      const A = await read(st.A);
      disposeAll([
        ...outs,
        st.A,
        st.B,
        st.adam.mu["A"],
        st.adam.mu["B"],
        st.adam.nu["A"],
        st.adam.nu["B"],
        st.active,
        st.divergedAt,
      ] as Tensor[]);
      return { sec, A };
    };

    const warmHand = await runHand(); // compiles
    const warmAuto = await runAuto();
    let maxDiff = 0;
    let maxAbs = 0;
    warmHand.A.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - (warmAuto.A[i] as number)));
      maxAbs = Math.max(maxAbs, Math.abs(v));
    });
    const handMs: number[] = [];
    const autoMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      // Alternate which goes first, so a slow spell of the shared machine hits both.
      const order = i % 2 === 0 ? [runHand, runAuto] : [runAuto, runHand];
      for (const f of order) {
        const { sec } = await f();
        (f === runHand ? handMs : autoMs).push((sec * 1000) / steps);
      }
    }
    const row = {
      n,
      K,
      handMsPerStep: median(handMs),
      autodiffMsPerStep: median(autoMs),
      ratio: median(autoMs) / median(handMs),
      maxAbsDiffA: maxDiff,
      maxAbsA: maxAbs,
      handMs,
      autoMs,
    };
    results.push(row);
    process.stderr.write(
      `n=${n} K=${K}: hand ${row.handMsPerStep.toFixed(1)} ms/step, autodiff ${row.autodiffMsPerStep.toFixed(1)} ms/step (×${row.ratio.toFixed(2)}); max |ΔA| after ${steps} steps ${maxDiff.toExponential(2)} (max |A| ${maxAbs.toFixed(3)})\n`,
    );
    disposeAll([batch.H, batch.C, batch.y, batch.w, lr, loss0]);
  }
  report({ bench: "toy-step-autodiff", steps, reps, results });
}

await main();
