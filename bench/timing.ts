// Timing of engine work for the benchmarks (kept apart from stats.ts, which loads no engine).
import { blockUntilReady, type Tensor } from "../src/engine/index.ts";
import { median } from "./stats.ts";

/**
 * Median wall time in ms of `fn` over `reps` calls after one warm-up call (which compiles and runs
 * the kernels once on V8's baseline tier); every returned tensor is waited for, then released.
 */
export async function timeMedian(fn: () => Tensor | readonly Tensor[], reps: number): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const out = fn();
    const list: readonly Tensor[] = Array.isArray(out) ? out : [out as Tensor];
    for (const o of list) await blockUntilReady(o);
    if (i > 0) ts.push(performance.now() - t0);
    for (const o of list) o.dispose();
  }
  return median(ts);
}
