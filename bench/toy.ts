// PLACEHOLDER — toy-sweep benchmarks, not written yet (they need the batched toy trainer in
// src/train/, which is still in progress). bench/run.ts calls `toyConfigs()`; while it returns no
// configurations, results.md says "toy sweeps: not measured".
//
// What belongs here once src/train/ has a working batched trainer:
//   - a toy sweep of 24 runs (init-a/init-b × 12 learning rates) at width n = 1024 and n = 4096, the
//     default reproduce steps, N = 1000 training points, timed four ways side by side:
//       1. lorascope batched (all 24 adapters in one jitted step, src/train/toy-step.ts),
//       2. lorascope one run at a time (same step with K = 1, 24 times),
//       3. bench/torch_toy_loop.py — a plain PyTorch loop, one run at a time, as a PEFT user would,
//       4. bench/torch_toy_batched.py — PyTorch running the same batched algorithm;
//   - the per-step floor from bytes moved: the batched step reads/writes about
//     (H, C: 2·N·n) + K·(A, Bᵀ, moments: 6·r·n) + K·N·n for u floats per step, ×4 bytes, divided by
//     this machine's copy bandwidth, measured here (a large Float32Array/wasm memory.copy, best of
//     several tries), so each configuration's time can be read as a multiple of the floor.
// Each configuration must print one JSON line through `report()` from ./stats.ts, like the others.

export interface ToyConfig {
  name: string;
  command: string[];
  env?: Record<string, string>;
}

/** Toy-sweep child configurations for bench/run.ts; empty until the toy trainer lands. */
export function toyConfigs(): ToyConfig[] {
  return [];
}
