// Where one LoRA step of the transformer block (bench/block.ts) spends its time, kernel by kernel,
// from jax-js's own profiler (src/engine/profile.ts). Run it single-threaded:
//
//   node --import tsx bench/block-profile.ts [--top 25]
//
// Prints the wall time of the profiled step, the number of dispatched kernels, their summed time,
// the time grouped by kind (matmul-like reductions, other reductions, elementwise, routines) and the
// slowest kernels with a short description.
import {
  initEngine,
  np,
  refTree,
  blockUntilReady,
  read,
  profileKernels,
  type KernelTiming,
  type Tensor,
} from "../src/engine/index.ts";
import { blockInit, blockStep } from "./block.ts";
import { flag } from "./stats.ts";

type Trees = { lora: Record<string, Tensor>; m: Record<string, Tensor>; v: Record<string, Tensor> };

/** A coarse kind for a kernel: reductions longer than 32 are treated as matmul-like contractions. */
export function kernelKind(k: KernelTiming): string {
  if (!k.label.startsWith("Kernel")) return `routine ${k.label}`;
  if (k.reduction === "") return "elementwise";
  const [op, len] = k.reduction.split(":");
  return `${op === "sum" && Number(len) >= 32 ? "contraction" : "reduction"} ${k.reduction} → ${k.size}`;
}

async function main(): Promise<void> {
  const top = flag("top", 25);
  await initEngine();
  const init = blockInit();
  const zeros = (t: Record<string, Tensor>): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(t).map(([k, x]) => [k, np.zerosLike(x.ref)]));
  let s: Trees = { lora: init.lora, m: zeros(init.lora), v: zeros(init.lora) };
  let stepNo = 0;
  const step = async (): Promise<void> => {
    stepNo++;
    const bc1 = np.array(1 - 0.9 ** stepNo), bc2 = np.array(1 - 0.999 ** stepNo);
    const out = blockStep(
      s.lora as never,
      s.m as never,
      s.v as never,
      refTree(init.frozen),
      init.x.ref,
      init.target.ref,
      init.maskBias.ref,
      bc1,
      bc2,
    );
    await blockUntilReady(out);
    await read(out.loss);
    out.loss.dispose();
    s = out;
  };
  await step(); // traces and compiles
  await step();
  const t0 = performance.now();
  const { kernels } = await profileKernels(step);
  const wall = performance.now() - t0;
  const sum = kernels.reduce((a, k) => a + k.ms, 0);
  console.log(
    `step wall ${wall.toFixed(1)} ms, ${kernels.length} kernels dispatched, kernel time ${sum.toFixed(1)} ms`,
  );
  // The forward ends with the loss: the one kernel that sums all N·d squared errors to a scalar.
  const lossAt = kernels.findIndex((k) => k.reduction === `Add:${1024 * 256}`);
  const part = (ks: KernelTiming[]): string =>
    `${ks.length} kernels, ${ks.reduce((a, k) => a + k.ms, 0).toFixed(1)} ms`;
  console.log(
    `forward (to the loss): ${part(kernels.slice(0, lossAt + 1))}; backward + AdamW: ${part(kernels.slice(lossAt + 1))}`,
  );
  const groups = new Map<string, { n: number; ms: number }>();
  for (const k of kernels) {
    const g = groups.get(kernelKind(k)) ?? { n: 0, ms: 0 };
    g.n++;
    g.ms += k.ms;
    groups.set(kernelKind(k), g);
  }
  console.log("\n| kind | kernels | ms | % of kernel time |\n|---|---|---|---|");
  for (const [kind, g] of [...groups].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`| ${kind} | ${g.n} | ${g.ms.toFixed(1)} | ${((100 * g.ms) / sum).toFixed(1)} |`);
  }
  console.log(`\nslowest ${top} kernels (dispatch index, ms, kind, expression head):`);
  const ranked = kernels.map((k, i) => ({ k, i })).sort((a, b) => b.k.ms - a.k.ms).slice(0, top);
  for (const { k, i } of ranked)
    console.log(`#${i} ${k.ms.toFixed(2)} ${kernelKind(k)} ${k.exp.slice(0, Number(process.env["EXP_CHARS"] ?? 160))}`);
}

await main();
