// `npm test`: the type check (tsc --noEmit) and the lint (ESLint, zero warnings) side by side, then
// every test/**/*.test.ts with Node's built-in runner (Node 20's --test takes no globs). The tests
// run even when a check fails, so one run shows everything; the exit code is non-zero if anything
// failed, and the runner's summary stays the last thing printed.
// Extra arguments are passed to the runner, e.g. `npm test -- --test-name-pattern=lora`.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === "fixtures" ? [] : find(p);
    return name.endsWith(".test.ts") ? [p] : [];
  });
}

/** A file of an installed package (eslint's exports hide its bin from require.resolve). */
function packageFile(pkg, file) {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

/** Run a script with this node, output collected (printed whole, so the two checks don't interleave). */
function check(name, script, args) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const verdict = code === 0 ? "ok" : `FAILED (exit ${code})`;
      resolve({
        ok: code === 0,
        text: `${out}${out && !out.endsWith("\n") ? "\n" : ""}${name}: ${verdict}, ${seconds} s\n`,
      });
    });
  });
}

const checks = await Promise.all([
  check("typecheck (tsc --noEmit)", packageFile("typescript", "bin/tsc"), ["--noEmit"]),
  check("lint (eslint --max-warnings=0)", packageFile("eslint", "bin/eslint.js"), ["--max-warnings=0", "."]),
]);
for (const c of checks) process.stdout.write(c.text);

const files = find("test").sort();
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...process.argv.slice(2), ...files],
  { stdio: "inherit" },
);
process.exit(checks.every((c) => c.ok) ? (r.status ?? 1) : 1);
