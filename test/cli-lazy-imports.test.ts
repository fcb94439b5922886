// `--help` and usage errors must answer without loading the engine, the models or vega: command
// modules import those inside `run` (await import), never at load time. Checked two ways that cannot
// flake: statically, on the import graph of src/cli/main.ts, and at run time, with a resolve hook
// that fails any such import (test/support/forbid-heavy-imports.mjs). Wall time is checked loosely.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const src = path.resolve(import.meta.dirname, "../src");
const HEAVY_FILES = /^(engine|models|report)\//;
const HEAVY_PACKAGES = /^(@jax-js\/|vega$|vega-lite$|@energetic-ai\/|@tensorflow\/|bullmq$|ioredis$)/;

/** Specifiers a file imports at load time: `import … from` and `export … from`, not `import type` or `import()`. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s+"([^"]+)"/g)) {
    if (m[2] !== undefined) continue; // `import type …` is erased
    out.push(m[4] as string);
  }
  // Side-effect imports: `import "x";`
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+"([^"]+)"/g)) out.push(m[1] as string);
  return out;
}

/** Every file and package loaded with `entry`, following static imports only. */
function loadedWith(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (files.has(f)) continue;
    files.add(f);
    for (const spec of staticImports(f)) {
      if (spec.startsWith(".")) todo.push(path.resolve(path.dirname(f), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

const rel = (f: string): string => path.relative(src, f).split(path.sep).join("/");

test("the CLI's static import graph holds no engine, model, report, ML or queue package", () => {
  const { files, packages } = loadedWith(path.join(src, "cli/main.ts"));
  const names = [...files].map(rel);
  // The walk does reach every command module, so an engine import in one of them would be seen.
  for (const c of ["coord-check", "evaluate", "finetune", "inspect", "reproduce", "sweep", "worker"]) assert.ok(names.includes(`cli/commands/${c}.ts`), c);
  assert.deepEqual(names.filter((n) => HEAVY_FILES.test(n)), []);
  assert.deepEqual([...packages].filter((p) => HEAVY_PACKAGES.test(p)), []);
  // zod and yaml are loaded only when a --config file is given.
  assert.deepEqual([...packages].filter((p) => p === "zod" || p === "yaml"), []);
});

test("the walk finds the engine where it is imported (the check above can fail)", () => {
  const { files } = loadedWith(path.join(src, "experiments/encoder/finetune.ts"));
  assert.ok([...files].map(rel).some((n) => n.startsWith("engine/")));
});

/** `lorascope …` with the hook that fails engine, model and vega imports; `ms` is its wall time. */
const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> => {
  const t0 = performance.now();
  try {
    const r = await promisify(execFile)(process.execPath, ["--import", "./test/support/forbid-heavy-imports.mjs", "bin/lorascope.js", ...args]);
    return { code: 0, ...r, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "", ms: performance.now() - t0 };
  }
};

test("help and usage errors run with engine, model and vega imports forbidden", async () => {
  // Timed alone. Loose on purpose (on a loaded 2-core machine tsx alone takes a second or more): the
  // hook below is the real check.
  const timed = await run("sweep", "--help");
  assert.equal(timed.code, 0, timed.stderr);
  assert.ok(timed.ms < 15_000, `sweep --help took ${timed.ms.toFixed(0)} ms`);
  const helps = [["--help"], ["sweep", "--help"], ["help", "finetune"], ["reproduce", "-h"], ["coord-check", "--help"], ["worker", "--help"]];
  const usage = [["finetune", "--task", "mnist", "--lr", "1e-3"], ["sweep", "--task", "spam", "--lrs", "x"], ["evaluate", "--task", "spam"], ["worker", "--queue", "http://h:1"], ["reproduce", "--queue", "redis://h:1/x"]];
  // Control: a command that really runs does hit the hook.
  const control = ["inspect", "/nonexistent-adapter"];
  const runs = await Promise.all([...helps, ...usage, control].map((args) => run(...args)));
  helps.forEach((args, i) => {
    const r = runs[i] as Awaited<ReturnType<typeof run>>;
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: lorascope/);
  });
  usage.forEach((args, i) => {
    const r = runs[helps.length + i] as Awaited<ReturnType<typeof run>>;
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /heavy import/);
  });
  assert.match(runs.at(-1)?.stderr ?? "", /heavy import: .*(src|dist)\/engine\//);
});
