/**
 * # Ownership rules (jax-js reference counting) — the rules all lorascope code follows
 *
 * jax-js frees device memory by reference counting, not by garbage collection: a new tensor starts
 * with one reference, owned by whoever created it; `t.ref` adds one; `t.dispose()` drops one.
 *
 * The one rule: you own every tensor you create or get back from a function; passing it to a
 * function gives it away, unless that function's doc comment says it borrows. Each tensor argument
 * is taken in one of three modes, named in the doc comment:
 *
 * - consume (the default, and every engine op): the callee takes the reference. Pass `t.ref`, or
 *   `refTree(params)` for a tree, to keep yours.
 * - borrow: the callee only looks (`read`, `readScalar`, `saveAdapter`); the caller still owns it.
 * - move: the callee consumes a value and returns its successor, now the caller's (a training step
 *   consumes the old state and returns the new one).
 *
 * Returned tensors are owned by the caller, who disposes them or passes them on. `readAndDispose`
 * is the read that consumes, for a temporary.
 *
 * `trackAllocations()` counts live device buffers so tests can assert that a training step leaves
 * exactly as many buffers alive as it found (test/engine-ownership.test.ts).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { tree, type Tensor, type JsTree } from "./jax.ts";

/** Add one reference to every tensor of a tree and return it (for passing a tree you keep). */
export function refTree<T extends JsTree<Tensor>>(t: T): T {
  return tree.ref<T>(t);
}

/** Drop one reference from every tensor of a tree. */
export function disposeTree(t: JsTree<Tensor>): void {
  tree.dispose(t);
}

interface BackendHooks {
  malloc: (...args: unknown[]) => number;
  incRef: (slot: number) => void;
  decRef: (slot: number) => void;
}

let live: Map<number, number> | undefined;

/**
 * Start counting live device buffers (idempotent). Works by wrapping the wasm backend's
 * malloc/incRef/decRef, which jax-js 0.1.25 does not export from its entry point; the module is
 * located next to the entry file. Used by leak tests only: it adds a little overhead per op.
 */
export async function trackAllocations(): Promise<void> {
  if (live !== undefined) return;
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@jax-js/jax");
  const dir = path.dirname(entry);
  const fs = await import("node:fs");
  const file = fs.readdirSync(dir).find((f) => /^backend-.*\.js$/.test(f));
  if (file === undefined) throw new Error("cannot locate the jax-js backend module for leak tracking");
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
  const getBackend = mod["s"] as ((d: string) => BackendHooks) | undefined;
  if (typeof getBackend !== "function") throw new Error("jax-js backend module layout changed");
  const backend = getBackend("wasm");
  const counts = new Map<number, number>();
  const malloc = backend.malloc.bind(backend);
  const incRef = backend.incRef.bind(backend);
  const decRef = backend.decRef.bind(backend);
  backend.malloc = (...args: unknown[]) => {
    const slot = malloc(...args);
    counts.set(slot, 1);
    return slot;
  };
  backend.incRef = (slot: number) => {
    incRef(slot);
    counts.set(slot, (counts.get(slot) ?? 0) + 1);
  };
  backend.decRef = (slot: number) => {
    decRef(slot);
    const c = (counts.get(slot) ?? 1) - 1;
    if (c <= 0) counts.delete(slot);
    else counts.set(slot, c);
  };
  live = counts;
}

/** Number of device buffers alive now (only after `trackAllocations()`). */
export function liveBuffers(): number {
  if (live === undefined) throw new Error("call trackAllocations() before liveBuffers()");
  return live.size;
}
