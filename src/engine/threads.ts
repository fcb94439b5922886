// Kernel threads for jax-js's wasm backend on Node.
//
// jax-js 0.1.25 runs wasm kernels on a pool of Web Workers when the globals `Worker` and
// `SharedArrayBuffer` exist (`hasSharedArrayBuffer()` in its backend chunk), sizing the pool from
// `navigator.hardwareConcurrency`. Node 20 has no global `Worker`, so jax-js is single-threaded on
// Node. This file maps the part of the Web Worker API that jax-js uses (a Blob-URL script,
// `postMessage`, `onmessage`, `onerror`, `terminate`) onto `node:worker_threads`.
//
// Two facts about jax-js decide how the shim is installed (docs/engine.md, "Threads"):
//
// 1. The wasm backend is built while `@jax-js/jax` is *evaluated* (`new WasmBackend()` at module
//    level). Its constructor picks shared or unshared memory and creates the worker pool right then,
//    while every kernel compiled later declares shared memory whenever `Worker` exists *at compile
//    time*. Installing the shim after jax-js has loaded therefore gives kernels that import shared
//    memory but a backend that owns unshared memory: `LinkError: memory import 0 has no maximum
//    limit`. So this module installs the shim as a side effect of being imported, and `jax.ts`
//    imports it before `@jax-js/jax`. The thread count can only come from the environment
//    (LORASCOPE_THREADS), read at that moment.
// 2. Every message jax-js posts to a worker (`init`, `kernel`, `routine`) gets exactly one reply.
//    A Node worker keeps the process alive while it is referenced: left referenced, a script never
//    exits; unreferenced, Node exits (code 13) while a read still awaits a kernel. So each worker is
//    referenced exactly while it owes a reply.
import os from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";

// The worker's bootstrap: the first message is jax-js's worker script (fetched from its Blob URL
// here, because Node workers cannot load `blob:` URLs), evaluated as a classic script with the
// browser globals it expects; every later message goes to the `self.onmessage` it installs.
const BOOT = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
let started = false;
parentPort.on("message", (data) => {
  if (!started) { started = true; (0, eval)(data); return; }
  if (self.onmessage) self.onmessage({ data });
});`;

let started = 0;

/** How many kernel workers this process has started (0 until the first pooled kernel runs). */
export function workersStarted(): number {
  return started;
}

type MessageListener = ((ev: { data: unknown }) => void) | null;
type ErrorListener = ((ev: { message: string }) => void) | null;

/** The Web Worker subset jax-js uses, backed by a `node:worker_threads` Worker. */
class NodeWebWorker {
  onmessage: MessageListener = null;
  onerror: ErrorListener = null;
  readonly #worker: NodeWorker;
  /** Messages posted that have not been answered yet; the worker keeps Node alive while > 0. */
  #owed = 0;
  /** Posts wait for the script to be sent first. */
  #queue: Promise<void>;

  constructor(url: string) {
    started++;
    this.#worker = new NodeWorker(BOOT, { eval: true });
    this.#worker.on("message", (data: unknown) => {
      if (--this.#owed === 0) this.#worker.unref();
      this.onmessage?.({ data });
    });
    this.#worker.on("error", (e: Error) => {
      this.#owed = 0;
      this.#worker.unref();
      this.onerror?.({ message: e.message });
    });
    // Listeners re-reference the worker, so unreference it after attaching them.
    this.#worker.unref();
    const blob = resolveObjectURL(url);
    if (blob === undefined) throw new Error(`worker script ${url} is not a Blob URL`);
    this.#queue = blob.text().then((src) => this.#worker.postMessage(src));
  }

  postMessage(message: unknown): void {
    if (this.#owed++ === 0) this.#worker.ref();
    this.#queue = this.#queue.then(() => this.#worker.postMessage(message));
  }

  terminate(): void {
    void this.#worker.terminate();
  }
}

/** Parse a thread request ("auto" or a positive integer); throws on anything else. */
export function parseThreads(value: number | string): number {
  if (value === "auto") return os.availableParallelism();
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`threads must be a positive integer or "auto", got ${String(value)}`);
  }
  return n;
}

/**
 * Install the shim with a pool of `threads` workers. Only has an effect before `@jax-js/jax` is
 * evaluated (see fact 1 above); `jax.ts` guarantees that by importing this module first.
 */
export function installWorkerShim(threads: number): void {
  const g = globalThis as Record<string, unknown>;
  if (g["Worker"] === undefined) g["Worker"] = NodeWebWorker;
  const nav = (g["navigator"] ?? {}) as Record<string, unknown>;
  Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true });
  if (g["navigator"] === undefined) g["navigator"] = nav;
}

/** Threads requested by LORASCOPE_THREADS when this module loaded (1 when unset). */
export const loadedThreads: number = parseThreads(process.env["LORASCOPE_THREADS"] ?? 1);
if (loadedThreads > 1) installWorkerShim(loadedThreads);
