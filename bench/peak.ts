// This machine's WebAssembly SIMD128 fp32 peak, measured with a hand-assembled wasm kernel.
//
// SIMD128 has 4 fp32 lanes. Without relaxed SIMD (off by default in Node 20) there is no fused
// multiply-add, so a multiply-accumulate is one `f32x4.mul` and one `f32x4.add`: 8 FLOP per pair.
// The kernel runs K = 12 independent chains `acc_i = acc_i·m + c` in a loop, enough to hide the
// mul+add latency, so it is bound by how many SIMD mul/add instructions the core issues per cycle.
// peak = 12 chains × 8 FLOP × iterations / time, best of several tries (a peak, not a median).
// Running the same kernel on two worker threads at once gives the 2-core peak.
// With relaxed SIMD enabled (`node --experimental-wasm-relaxed-simd`, Node 20) the kernel can use
// `f32x4.relaxed_madd` instead — a fused multiply-add, 8 FLOP per instruction — and jax-js then uses
// it in its matmul kernels too (its feature probe `hasWasmFeature("relaxed-madd")`). With the flag the
// honest peak is the FMA one, reported as `gflopsFma1` (null when relaxed SIMD is off).
import { Worker } from "node:worker_threads";

// The project compiles without DOM typings, so declare the two WebAssembly constructors used here.
declare const WebAssembly: {
  validate: (bytes: Uint8Array) => boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

const CHAINS = 12;

function f32(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

/** Bytes of a module exporting `run(iterations: i32) -> f32`. */
export function peakModule(fma = false): Uint8Array {
  const M = CHAINS + 1, C = CHAINS + 2; // locals: 0 = iterations, 1..K = acc, K+1 = m, K+2 = c
  const body: number[] = [1, CHAINS + 2, 0x7b]; // CHAINS+2 v128 locals
  // acc_i = splat(1+i/16)
  for (let i = 0; i < CHAINS; i++) body.push(0x43, ...f32(1 + i / 16), 0xfd, 0x13, 0x21, i + 1);
  body.push(0x43, ...f32(0.9999999), 0xfd, 0x13, 0x21, M); // m = splat(0.9999999)
  body.push(0x43, ...f32(1e-7), 0xfd, 0x13, 0x21, C); // c = splat(1e-7)
  body.push(0x03, 0x40); // loop
  for (let i = 0; i < CHAINS; i++) {
    if (fma) {
      // acc_i = f32x4.relaxed_madd(acc_i, m, c)
      body.push(0x20, i + 1, 0x20, M, 0x20, C, 0xfd, 0x85, 0x02, 0x21, i + 1);
      continue;
    }
    body.push(0x20, i + 1, 0x20, M, 0xfd, 0xe6, 0x01); // f32x4.mul(acc_i, m)
    body.push(0x20, C, 0xfd, 0xe4, 0x01, 0x21, i + 1); // acc_i = f32x4.add(…, c)
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // iterations -= 1; br_if loop; end
  for (let i = 0; i < CHAINS; i++) {
    body.push(0x20, i + 1, 0xfd, 0x1f, 0); // f32x4.extract_lane 0 (keeps every chain live)
    if (i > 0) body.push(0x92); // f32.add
  }
  body.push(0x0b);
  const code = [1, ...leb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7d, // type: (i32) -> f32
    0x03, 0x02, 0x01, 0x00, // function 0 has type 0
    0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, // export "run"
    0x0a, ...leb(code.length), ...code,
  ]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const FLOP_PER_ITER = CHAINS * 4 * 2;

/** GFLOP/s of one thread: best of `tries` runs of `iters` loop iterations. */
export function peakOneThread(iters = 20_000_000, tries = 5, fma = false): number {
  const run = new WebAssembly.Instance(new WebAssembly.Module(peakModule(fma))).exports["run"] as (n: number) => number;
  run(1000); // instantiate and tier up
  let best = 0;
  for (let t = 0; t < tries; t++) {
    const t0 = performance.now();
    const sink = run(iters);
    const s = (performance.now() - t0) / 1000;
    if (!Number.isFinite(sink)) throw new Error("peak kernel overflowed");
    best = Math.max(best, (FLOP_PER_ITER * iters) / s / 1e9);
  }
  return best;
}

/** Aggregate GFLOP/s of `threads` workers running the kernel at the same time (best of `tries`). */
export async function peakThreads(threads: number, iters = 20_000_000, tries = 3): Promise<number> {
  const src = `const { parentPort, workerData } = require("node:worker_threads");
const run = new WebAssembly.Instance(new WebAssembly.Module(workerData)).exports.run;
run(1000);
parentPort.on("message", (n) => { run(n); parentPort.postMessage(0); });`;
  const workers = Array.from({ length: threads }, () => new Worker(src, { eval: true, workerData: peakModule() }));
  let best = 0;
  try {
    for (let t = 0; t < tries; t++) {
      const t0 = performance.now();
      await Promise.all(workers.map((w) => new Promise((done) => { w.once("message", done); w.postMessage(iters); })));
      const s = (performance.now() - t0) / 1000;
      best = Math.max(best, (threads * FLOP_PER_ITER * iters) / s / 1e9);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fma = WebAssembly.validate(peakModule(true)); // false unless relaxed SIMD is enabled
  console.log(JSON.stringify({
    bench: "peak", gflops1: peakOneThread(), gflops2: await peakThreads(2),
    gflopsFma1: fma ? peakOneThread(20_000_000, 5, true) : null,
  }));
}
