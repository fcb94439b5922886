// The shape of the house: rooms import only rooms above them in this list, only
// src/engine imports @jax-js/jax, and there are no import cycles between files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOMS = [
  "engine",
  "core",
  "nn",
  "lora",
  "models",
  "optim",
  "io",
  "data",
  "train",
  "experiments",
  "analysis",
  "report",
  "cli",
];
const src = path.resolve(import.meta.dirname, "../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    // Declaration files (src/types: types for packages that ship none usable) hold no code.
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)) {
    out.push((m[1] ?? m[2]) as string);
  }
  return out;
}

const room = (file: string): string => path.relative(src, file).split(path.sep)[0] as string;
const all = files(src);

test("every source file sits in a known room", () => {
  for (const f of all) {
    const r = room(f);
    if (r === "index.ts") continue;
    assert.ok(ROOMS.includes(r), `${path.relative(src, f)} is not in one of ${ROOMS.join(", ")}`);
  }
});

test("imports point one way and only the engine imports @jax-js/jax", () => {
  const bad: string[] = [];
  for (const f of all) {
    const from = room(f);
    for (const spec of imports(f)) {
      if (spec.startsWith("@jax-js/")) {
        if (from !== "engine") bad.push(`${path.relative(src, f)} imports ${spec}`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      const target = path.resolve(path.dirname(f), spec);
      const to = room(target);
      if (from === "index.ts" || to === from) continue;
      if (ROOMS.indexOf(to) > ROOMS.indexOf(from))
        bad.push(`${path.relative(src, f)} (${from}) imports ${to}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("no import cycles between files", () => {
  const graph = new Map<string, string[]>();
  for (const f of all) {
    graph.set(
      f,
      imports(f)
        .filter((s) => s.startsWith("."))
        .map((s) => path.resolve(path.dirname(f), s)),
    );
  }
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]): void => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) {
      cycles.push([...stack.slice(stack.indexOf(f)), f].map((p) => path.relative(src, p)).join(" → "));
      return;
    }
    state.set(f, 1);
    for (const g of graph.get(f) ?? []) visit(g, [...stack, f]);
    state.set(f, 2);
  };
  for (const f of all) visit(f, []);
  assert.deepEqual(cycles, []);
});
