import { initEngine, np, jit, valueAndGrad, refTree, blockUntilReady, read, type Tensor } from "../src/engine/index.ts";
import { blockInit, blockLoss, blockStep } from "./block.ts";
import { median } from "./stats.ts";
await initEngine();
type T = Record<string, Tensor>;
const init = blockInit();
const [LR, B1, B2, EPS, WD] = [1e-3, 0.9, 0.999, 1e-8, 0.01];
const grads = jit((lora: T, f: T, x: Tensor, t: Tensor, mb: Tensor) => valueAndGrad(blockLoss)(lora as never, f as never, x, t, mb));
const adam = jit((p: T, g: T, m: T, v: T, bc1: Tensor, bc2: Tensor) => {
  const np_ = {} as T, nm = {} as T, nv = {} as T;
  for (const k of Object.keys(p)) {
    const m2 = m[k]!.mul(B1).add(g[k]!.ref.mul(1 - B1));
    const v2 = v[k]!.mul(B2).add(np.square(g[k]!).mul(1 - B2));
    const upd = m2.ref.div(bc1.ref).div(np.sqrt(v2.ref.div(bc2.ref)).add(EPS)).mul(LR);
    np_[k] = p[k]!.mul(1 - LR * WD).sub(upd); nm[k] = m2; nv[k] = v2;
  }
  bc1.dispose(); bc2.dispose();
  return { lora: np_, m: nm, v: nv };
});
const zeros = (t: T) => Object.fromEntries(Object.entries(t).map(([k, x]) => [k, np.zerosLike(x.ref)])) as T;
const mode = process.argv[2] ?? "one";
let s = { lora: init.lora as unknown as T, m: zeros(init.lora as unknown as T), v: zeros(init.lora as unknown as T) };
const times: number[] = []; const losses: number[] = [];
for (let step = 1; step <= 8; step++) {
  const t0 = performance.now();
  const bc1 = np.array(1 - B1 ** step), bc2 = np.array(1 - B2 ** step);
  let loss: Tensor;
  if (mode === "one") {
    const out = blockStep(s.lora as never, s.m as never, s.v as never, refTree(init.frozen), init.x.ref, init.target.ref, init.maskBias.ref, bc1, bc2) as any;
    loss = out.loss; s = { lora: out.lora, m: out.m, v: out.v };
  } else {
    const [l, g] = grads(refTree(s.lora), refTree(init.frozen) as never, init.x.ref, init.target.ref, init.maskBias.ref) as unknown as [Tensor, T];
    loss = l; s = adam(s.lora, g, s.m, s.v, bc1, bc2) as never;
  }
  await blockUntilReady(s as never);
  losses.push((await read(loss))[0] as number); loss.dispose();
  if (step > 2) times.push(performance.now() - t0);
}
console.log(mode, "median ms", median(times).toFixed(1), "losses", losses[0], losses.at(-1));
