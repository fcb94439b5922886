// jax-js's wasm backend runs kernels on a pool of Web Workers when `Worker` and `SharedArrayBuffer`
// exist. Node has no global `Worker`, so without help jax-js is single-threaded on Node. This shim
// maps the Web Worker API that jax-js uses (a Blob-URL module script, `postMessage`, `onmessage`,
// `onerror`, `terminate`) onto `node:worker_threads`.
//
// Why it lives here: it depends on how jax-js 0.1.25 starts its workers (a Blob URL whose script
// sets `self.onmessage`), so it is tied to the pinned engine version. Caveat measured in
// docs/engine.md: once kernels run on workers, synchronous reads are refused by the engine
// ("cannot read synchronously from a slot with async work"), so lorascope reads tensors with the
// async `read()` helpers only.
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";

const BOOT = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
let started = false;
parentPort.on("message", (data) => {
  if (!started) { started = true; (0, eval)(data); return; }
  if (self.onmessage) self.onmessage({ data });
});`;

type Listener = ((ev: { data: unknown }) => void) | null;

class NodeWebWorker {
  onmessage: Listener = null;
  onerror: ((e: { message: string }) => void) | null = null;
  readonly #worker: NodeWorker;
  #queue: Promise<void>;

  constructor(url: string) {
    this.#worker = new NodeWorker(BOOT, { eval: true });
    this.#worker.unref();
    this.#worker.on("message", (data: unknown) => this.onmessage?.({ data }));
    this.#worker.on("error", (e: Error) => this.onerror?.({ message: e.message }));
    const blob = resolveObjectURL(url);
    if (blob === undefined) throw new Error(`worker script ${url} is not a Blob URL`);
    this.#queue = blob.text().then((src) => this.#worker.postMessage(src));
  }
  postMessage(message: unknown): void {
    this.#queue = this.#queue.then(() => this.#worker.postMessage(message));
  }
  terminate(): void {
    void this.#worker.terminate();
  }
}

/** Install the shim with `threads` workers. Must run before the engine is initialised. */
export function installWorkerShim(threads: number): void {
  const g = globalThis as Record<string, unknown>;
  if (g["Worker"] === undefined) g["Worker"] = NodeWebWorker;
  const nav = (g["navigator"] ?? {}) as Record<string, unknown>;
  // jax-js sizes its pool from navigator.hardwareConcurrency.
  Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true });
  if (g["navigator"] === undefined) g["navigator"] = nav;
}
