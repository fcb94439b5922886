// Wasm memory taken by one jitted USE-lite forward at [B, L]: jax-js (0.1.25) schedules every kernel
// of a jitted program at once and each pending kernel holds its input and output buffers, so the
// program's intermediates are all allocated together; the wasm heap then keeps that high-water mark
// (it never shrinks, and its free lists are per size class). Each shape runs in a fresh process.
// Usage:
//   node --import tsx bench/use-memory.ts            all shapes below, one child process each
//   node --import tsx bench/use-memory.ts B L        one shape, in this process (prints one JSON line)
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as prng from "../src/core/prng.ts";
import type { Params } from "../src/core/tree.ts";
import { jit, read, refTree, type Tensor } from "../src/engine/index.ts";
import { apply, loadUseLite, packBatch } from "../src/models/use-lite/index.ts";

const MiB = 2 ** 20;
const SHAPES: ReadonlyArray<readonly [number, number]> = [[8, 32], [32, 32], [8, 128], [16, 128], [32, 128]];

async function measure(
  B: number,
  L: number,
): Promise<{ B: number; L: number; heapBeforeMiB: number; heapAfterMiB: number }> {
  const m = await loadUseLite();
  const rows = Array.from({ length: B }, (_, b) => Float32Array.from(prng.normal(prng.key(b), [L * 256])));
  const f = jit((p: Params, x: Tensor, mask: Tensor) => apply(p, { x, mask }, m.constants)) as unknown as (
    p: Params,
    x: Tensor,
    mask: Tensor,
  ) => Tensor;
  const before = process.memoryUsage().external; // the wasm memory is an external buffer
  for (let i = 0; i < 2; i++) {
    const { x, mask } = packBatch(rows, L);
    const y = f(refTree(m.params), x, mask); // [B, 512]
    await read(y);
    y.dispose();
  }
  return {
    B,
    L,
    heapBeforeMiB: Math.round(before / MiB),
    heapAfterMiB: Math.round(process.memoryUsage().external / MiB),
  };
}

if (process.argv.length >= 4) {
  console.log(JSON.stringify(await measure(Number(process.argv[2]), Number(process.argv[3]))));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(
    "| batch × tokens | external memory after loading (MiB) | after two forwards (MiB) | growth per sentence (MiB) |",
  );
  console.log("|---|---|---|---|");
  for (const [B, L] of SHAPES) {
    const out = execFileSync(process.execPath, ["--import", "tsx", self, String(B), String(L)], { encoding: "utf8" });
    const r = JSON.parse(out.trim().split("\n").at(-1) as string) as Awaited<ReturnType<typeof measure>>;
    console.log(
      `| ${B} × ${L} | ${r.heapBeforeMiB} | ${r.heapAfterMiB} | ${((r.heapAfterMiB - r.heapBeforeMiB) / B).toFixed(1)} |`,
    );
  }
}
