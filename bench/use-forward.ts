// Time the jitted USE-lite forward (frozen encoder) and the jitted LoRA train step at [B, L]:
// first call (trace + kernel compilation) vs later calls. Usage:
//   node --import tsx bench/use-forward.ts [B] [L] [reps]
import os from "node:os";
import * as prng from "../src/core/prng.ts";
import { jit, read, refTree, type Tensor } from "../src/engine/index.ts";
import type { Params } from "../src/core/tree.ts";
import { apply, loadUseLite, packBatch } from "../src/models/use-lite/index.ts";

const B = Number(process.argv[2] ?? 32);
const L = Number(process.argv[3] ?? 32);
const reps = Number(process.argv[4] ?? 3);
const m = await loadUseLite();
const rows = Array.from({ length: B }, (_, b) => Float32Array.from(prng.normal(prng.key(b), [L * 256])));
const f = jit((p: Params, x: Tensor, mask: Tensor) => apply(p, { x, mask }, m.constants)) as unknown as (
  p: Params,
  x: Tensor,
  mask: Tensor,
) => Tensor;
const times: number[] = [];
for (let i = 0; i < reps + 1; i++) {
  const { x, mask } = packBatch(rows, L);
  const t0 = performance.now();
  const y = f(refTree(m.params), x, mask);
  await read(y);
  y.dispose();
  times.push(performance.now() - t0);
}
const later = times.slice(1).sort((a, b) => a - b);
const med = later[Math.floor(later.length / 2)] as number;
console.log(
  JSON.stringify({
    B,
    L,
    firstMs: Math.round(times[0] as number),
    laterMs: later.map(Math.round),
    sentencesPerSec: +(B / (med / 1000)).toFixed(1),
    load: os.loadavg().map((v) => +v.toFixed(2)),
  }),
);
