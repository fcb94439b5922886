// A matmul whose operand is a transpose+reshape view vs the same operand copied contiguously (the
// merged attention heads of the sentence encoder, [B, H, L, dh] → [B, L, H·dh], into o_proj with a
// residual add). Why `contiguous` exists: docs/engine.md, "Views into a matmul". Usage:
//   node --import tsx bench/view-matmul.ts [reps]
import os from "node:os";
import type { Params } from "../src/core/tree.ts";
import * as prng from "../src/core/prng.ts";
import { contiguous, initEngine, jit, profileKernels, read, tensor, type Tensor } from "../src/engine/index.ts";
import * as linear from "../src/nn/linear.ts";
import { median } from "./stats.ts";

const reps = Number(process.argv[2] ?? 5);
await initEngine();
const [B, H, L, dh] = [32, 4, 32, 128];
const random = (shape: number[], name: string): Tensor =>
  tensor(prng.normal(prng.fold(prng.key(0), name), shape), shape);
const p = linear.init(prng.key(1), H * dh, 512);
const heads = random([B, H, L, dh], "heads");
const residual = random([B, L, 512], "residual");
const out: Record<string, unknown> = { B, H, L, dh };
for (const mode of ["view", "contiguous"] as const) {
  const f = jit((p: Params, heads: Tensor, r: Tensor) => {
    const merged = heads.transpose([0, 2, 1, 3]).reshape([B, L, H * dh]); // [B, L, H·dh]
    return r.add(linear.apply(p, mode === "view" ? merged : contiguous(merged))); // [B, L, 512]
  }) as unknown as (p: Params, heads: Tensor, r: Tensor) => Tensor;
  const once = async (): Promise<Float32Array> => {
    const y = f({ weight: (p["weight"]).ref, bias: (p["bias"] as Tensor).ref }, heads.ref, residual.ref);
    const v = await read(y);
    y.dispose();
    return v;
  };
  const first = await once(); // trace + compile
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const { kernels } = await profileKernels(once);
    ms.push(kernels.reduce((a, k) => a + k.ms, 0));
  }
  // the sums agree to float32 rounding (other accumulation order)
  out[mode] = { kernelMs: +median(ms).toFixed(1), sum: first.reduce((a, v) => a + v, 0) };
}
out["load"] = os.loadavg().map((v) => +v.toFixed(2));
console.log(JSON.stringify(out));
