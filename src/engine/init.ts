import os from "node:os";
import { installWorkerShim } from "./threads.ts";

export interface EngineOptions {
  /**
   * Worker threads for the wasm kernels. 1 (the default) runs kernels on the calling thread; a
   * sweep gets more from one single-threaded engine per core (docs/engine.md). `"auto"` uses every
   * core. The environment variable LORASCOPE_THREADS sets the default.
   */
  threads?: number | "auto";
}

let ready: Promise<void> | undefined;
let activeThreads = 1;

/**
 * Start the engine's wasm backend. Idempotent: later calls return the first call's promise and
 * ignore their options. The backend is named explicitly: a bare `init()` probes WebGPU and crashes
 * on Node 20 (`navigator is not defined`).
 */
export function initEngine(opts: EngineOptions = {}): Promise<void> {
  if (ready !== undefined) return ready;
  const env = process.env["LORASCOPE_THREADS"];
  const asked = opts.threads ?? (env === undefined ? 1 : env === "auto" ? "auto" : Number(env));
  const threads = asked === "auto" ? os.availableParallelism() : asked;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer or "auto", got ${String(asked)}`);
  }
  activeThreads = threads;
  if (threads > 1) installWorkerShim(threads);
  ready = (async () => {
    const { init, defaultDevice } = await import("@jax-js/jax");
    const devices = await init("wasm");
    if (!devices.includes("wasm")) throw new Error("the engine's wasm backend did not start");
    defaultDevice("wasm");
  })();
  return ready;
}

/** Number of kernel threads the engine was started with. */
export function engineThreads(): number {
  return activeThreads;
}
