// One LoRA training step of a pre-LN transformer block on lorascope's engine (jax-js, wasm):
// d = 256, 4 heads, T = 128, batch 8, MLP 1024 with tanh-GELU, causal attention, LoRA r = 8
// (lora_alpha 16) on q, k, v and o, AdamW on the LoRA parameters only, MSE to a fixed target.
// bench/torch_block.py is the same step in PyTorch. Prints one JSON line: median ms per step.
//
//   node --import tsx bench/block.ts [--reps 10] [--warmup 2]
import {
  initEngine,
  engineThreads,
  np,
  jnn,
  jit,
  valueAndGrad,
  tensor,
  read,
  blockUntilReady,
  refTree,
  type Tensor,
} from "../src/engine/index.ts";
import { gelu } from "../src/nn/activation.ts";
import { median, pattern, flag, report } from "./stats.ts";

export const BLOCK = { d: 256, heads: 4, T: 128, batch: 8, mlp: 1024, r: 8, alpha: 16 } as const;
const { d, heads, T, batch, mlp, r, alpha } = BLOCK;
const dh = d / heads;
const N = batch * T;
const SCALE = alpha / r;
const [LR, BETA1, BETA2, EPS, WD] = [1e-3, 0.9, 0.999, 1e-8, 0.01];

type Lora = Record<"qA" | "qB" | "kA" | "kB" | "vA" | "vB" | "oA" | "oB", Tensor>;
type Frozen = Record<"Wq" | "Wk" | "Wv" | "Wo" | "W1" | "b1" | "W2" | "b2" | "g1" | "be1" | "g2" | "be2", Tensor>;

/** Frozen weights and LoRA factors from the shared pattern; seeds and scales match torch_block.py. */
export function blockInit(): { lora: Lora; frozen: Frozen; x: Tensor; target: Tensor; maskBias: Tensor } {
  const w = 1 / Math.sqrt(d);
  const frozen: Frozen = {
    Wq: tensor(pattern(d * d, 1, w), [d, d]), Wk: tensor(pattern(d * d, 2, w), [d, d]),
    Wv: tensor(pattern(d * d, 3, w), [d, d]), Wo: tensor(pattern(d * d, 4, w), [d, d]),
    W1: tensor(pattern(mlp * d, 5, w), [mlp, d]), b1: tensor(pattern(mlp, 6, 0.1), [mlp]),
    W2: tensor(pattern(d * mlp, 7, 1 / Math.sqrt(mlp)), [d, mlp]), b2: tensor(pattern(d, 8, 0.1), [d]),
    g1: tensor(pattern(d, 9, 0.1).map((v) => 1 + v), [d]), be1: tensor(pattern(d, 10, 0.1), [d]),
    g2: tensor(pattern(d, 11, 0.1).map((v) => 1 + v), [d]), be2: tensor(pattern(d, 12, 0.1), [d]),
  };
  // Both LoRA factors non-zero (as after a few steps), so every gradient path does real work.
  const lora = {} as Lora;
  const names = ["q", "k", "v", "o"] as const;
  names.forEach((m, i) => {
    lora[`${m}A`] = tensor(pattern(r * d, 20 + i, w), [r, d]);
    lora[`${m}B`] = tensor(pattern(d * r, 30 + i, 0.05), [d, r]);
  });
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  return {
    lora, frozen,
    x: tensor(pattern(N * d, 40, 1), [N, d]),
    target: tensor(pattern(N * d, 41, 1), [N, d]),
    maskBias: tensor(mask, [T, T]),
  };
}

function layerNorm(x: Tensor, g: Tensor, b: Tensor): Tensor {
  const xc = x.ref.sub(x.mean(-1, { keepdims: true })); // [N,d]
  const variance = np.square(xc.ref).mean(-1, { keepdims: true }); // [N,1]
  return xc.div(np.sqrt(variance.add(1e-5))).mul(g).add(b);
}

/** x·Wᵀ + s·(x·Aᵀ)·Bᵀ — PEFT's LoRA linear without bias. */
function loraLinear(x: Tensor, W: Tensor, A: Tensor, B: Tensor): Tensor {
  const base = np.matmul(x.ref, W.transpose()); // [N,d]·[d,d] → [N,d]
  const low = np.matmul(np.matmul(x, A.transpose()), B.transpose()); // [N,d]·[d,r] → [N,r]·[r,d] → [N,d]
  return base.add(low.mul(SCALE));
}

function heads4(x: Tensor): Tensor {
  return x.reshape([batch, T, heads, dh]).transpose([0, 2, 1, 3]); // [N,d] → [B,H,T,dh]
}

export function blockLoss(lora: Lora, f: Frozen, x: Tensor, target: Tensor, maskBias: Tensor): Tensor {
  const h = layerNorm(x.ref, f.g1, f.be1); // [N,d]
  const q = heads4(loraLinear(h.ref, f.Wq, lora.qA, lora.qB));
  const k = heads4(loraLinear(h.ref, f.Wk, lora.kA, lora.kB));
  const v = heads4(loraLinear(h, f.Wv, lora.vA, lora.vB));
  // [B,H,T,dh]·[B,H,dh,T] → [B,H,T,T]
  const scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(dh)).add(maskBias);
  const att = np.matmul(jnn.softmax(scores, -1), v); // [B,H,T,T]·[B,H,T,dh] → [B,H,T,dh]
  const merged = att.transpose([0, 2, 1, 3]).reshape([N, d]); // [B,H,T,dh] → [N,d]
  const x1 = x.add(loraLinear(merged, f.Wo, lora.oA, lora.oB)); // [N,d]
  const h2 = layerNorm(x1.ref, f.g2, f.be2);
  // nn's gelu: same values as jnn.gelu, backward one multiply (src/nn/activation.ts, bench/NOTES.md)
  const up = gelu(np.matmul(h2, f.W1.transpose()).add(f.b1)); // [N,d]·[d,mlp] → [N,mlp]
  const y = x1.add(np.matmul(up, f.W2.transpose()).add(f.b2)); // [N,mlp]·[mlp,d] → [N,d]
  return np.square(y.sub(target)).mean();
}

/** AdamW (decoupled weight decay, torch.optim.AdamW's order): returns [p, m, v]. */
function adamw(p: Tensor, g: Tensor, m: Tensor, v: Tensor, bc1: Tensor, bc2: Tensor): [Tensor, Tensor, Tensor] {
  const m2 = m.mul(BETA1).add(g.ref.mul(1 - BETA1));
  const v2 = v.mul(BETA2).add(np.square(g).mul(1 - BETA2));
  const decayed = p.mul(1 - LR * WD);
  const update = m2.ref.div(bc1).div(np.sqrt(v2.ref.div(bc2)).add(EPS)).mul(LR);
  return [decayed.sub(update), m2, v2];
}

export const blockStep = jit(
  (lora: Lora, m: Lora, v: Lora, f: Frozen, x: Tensor, target: Tensor, maskBias: Tensor, bc1: Tensor, bc2: Tensor) => {
    const [loss, g] = valueAndGrad(blockLoss)(refTree(lora), f, x, target, maskBias);
    const next = {} as Lora, nm = {} as Lora, nv = {} as Lora;
    for (const key of Object.keys(lora) as (keyof Lora)[]) {
      [next[key], nm[key], nv[key]] = adamw(lora[key], g[key], m[key], v[key], bc1.ref, bc2.ref);
    }
    bc1.dispose();
    bc2.dispose();
    return { loss, lora: next, m: nm, v: nv };
  },
);

async function main(): Promise<void> {
  const reps = flag("reps", 10), warmup = flag("warmup", 2);
  await initEngine();
  const init = blockInit();
  let lora = init.lora;
  let m = Object.fromEntries(Object.entries(lora).map(([k, t]) => [k, np.zerosLike(t.ref)])) as Lora;
  let v = Object.fromEntries(Object.entries(lora).map(([k, t]) => [k, np.zerosLike(t.ref)])) as Lora;
  const times: number[] = [];
  const losses: number[] = [];
  for (let step = 1; step <= warmup + reps; step++) {
    const t0 = performance.now();
    const bc1 = np.array(1 - BETA1 ** step), bc2 = np.array(1 - BETA2 ** step);
    const out = blockStep(lora, m, v, refTree(init.frozen), init.x.ref, init.target.ref, init.maskBias.ref, bc1, bc2);
    await blockUntilReady(out);
    losses.push((await read(out.loss))[0] as number);
    out.loss.dispose();
    ({ lora, m, v } = out);
    if (step > warmup) times.push(performance.now() - t0);
  }
  report({
    bench: "block",
    stack: "jax-js",
    threads: engineThreads(),
    msPerStep: median(times),
    times,
    loss1: losses[0],
    lossLast: losses.at(-1),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
