// The engine twice in one process: as lorascope runs it (node_modules/@jax-js/jax, with the
// patches in patches/ applied by npm's postinstall) and as published (the same version's tarball,
// unpacked from npm's cache into a temp folder; `npm ci` leaves it there, so nothing is downloaded).
// The differential test (engine-patches.test.ts) runs the same programs on both.
// With LORASCOPE_THREADS > 1 this installs the Worker shim before either engine loads, so both run
// their kernels on worker threads (src/engine/threads.ts).
import "../../src/engine/threads.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { JaxModule } from "../../src/engine/jax.ts";

const patchedEntry = fileURLToPath(import.meta.resolve("@jax-js/jax")); // …/node_modules/@jax-js/jax/dist/index.js
/** The installed engine's package folder. */
export const patchedRoot = path.resolve(path.dirname(patchedEntry), "..");
export const engineVersion = (JSON.parse(readFileSync(path.join(patchedRoot, "package.json"), "utf8")) as {
  version: string;
}).version;

/** npm, the one running `npm test` when there is one (its CLI script, run with this node). */
function npm(args: readonly string[], cwd: string): string {
  const cli = process.env["npm_execpath"];
  const [cmd, argv] = cli?.endsWith(".js") ? [process.execPath, [cli, ...args]] : ["npm", [...args]];
  return execFileSync(cmd, argv, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Unpacks the published tarball of the installed version; returns its package folder and a cleanup. */
export function unpackPristine(): { root: string; cleanup: () => void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "lorascope-pristine-engine-"));
  try {
    // --offline: from npm's cache only (npm checks the tarball's integrity against the registry's).
    npm(["pack", `@jax-js/jax@${engineVersion}`, "--offline", "--pack-destination", tmp], tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`@jax-js/jax@${engineVersion} is not in npm's cache (run npm ci first)`, { cause: e });
  }
  const tarball = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
  if (tarball === undefined) throw new Error("npm pack wrote no tarball");
  execFileSync("tar", ["-xzf", tarball], { cwd: tmp });
  return { root: path.join(tmp, "package"), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Imports an engine's ESM entry and starts its wasm backend (1 thread: no Worker shim installed). */
export async function loadEngine(root: string): Promise<JaxModule> {
  const jax = (await import(pathToFileURL(path.join(root, "dist/index.js")).href)) as JaxModule;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) throw new Error(`the engine at ${root} did not start its wasm backend`);
  jax.defaultDevice("wasm");
  return jax;
}

/**
 * The lines our patches add that an engine copy lacks (`patch: file: line`); empty when every
 * patch in patches/ for this version is applied. Fails when there are no patches to check.
 */
export function unappliedPatchLines(engineRoot: string): string[] {
  const dir = path.resolve(import.meta.dirname, "../../patches");
  const patches = readdirSync(dir).filter((f) => f.startsWith(`@jax-js+jax+${engineVersion}+`)).sort();
  if (patches.length === 0) throw new Error(`no patches for @jax-js/jax@${engineVersion} in ${dir}`);
  const missing: string[] = [];
  for (const file of patches) {
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const section of text.split(/^diff --git /m).slice(1)) {
      const target = /^\+\+\+ b\/node_modules\/@jax-js\/jax\/(.+)$/m.exec(section)?.[1];
      if (target === undefined) throw new Error(`${file}: a section without a target file`);
      const installed = readFileSync(path.join(engineRoot, target), "utf8");
      for (const line of section.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++"))) {
        if (!installed.includes(line.slice(1))) missing.push(`${file}: ${target}: ${line}`);
      }
    }
  }
  return missing;
}
