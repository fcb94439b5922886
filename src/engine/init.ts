import { init, defaultDevice } from "@jax-js/jax";
import { loadedThreads, parseThreads } from "./threads.ts";

export interface EngineOptions {
  /**
   * Worker threads for the wasm kernels: a positive integer or `"auto"` (every core). The count is
   * fixed when the engine loads, from the environment variable LORASCOPE_THREADS (default 1), because
   * jax-js builds its wasm backend while it is imported (threads.ts). This option states what the
   * caller expects; initEngine throws if the engine was loaded with a different count. A sweep gets
   * more from one single-threaded engine per core (docs/engine.md).
   */
  threads?: number | "auto";
}

let ready: Promise<void> | undefined;

/**
 * Start the engine's wasm backend. Idempotent: later calls return the first call's promise. The
 * backend is named explicitly: a bare `init()` probes WebGPU and crashes on Node 20
 * (`navigator is not defined`).
 */
export function initEngine(opts: EngineOptions = {}): Promise<void> {
  if (opts.threads !== undefined) {
    const asked = parseThreads(opts.threads);
    if (asked !== loadedThreads) {
      throw new Error(
        `the engine was loaded with ${loadedThreads} thread(s) and cannot switch to ${asked}: ` +
          `start the process with LORASCOPE_THREADS=${String(opts.threads)} instead`,
      );
    }
  }
  ready ??= (async () => {
    const devices = await init("wasm");
    if (!devices.includes("wasm")) throw new Error("the engine's wasm backend did not start");
    defaultDevice("wasm");
  })();
  return ready;
}

/** Number of kernel threads the engine runs (LORASCOPE_THREADS when it loaded; default 1). */
export function engineThreads(): number {
  return loadedThreads;
}
