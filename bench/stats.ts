// Small helpers shared by the benchmarks: medians, timing, the deterministic data pattern that the
// TypeScript and PyTorch sides both generate, and the one-JSON-line protocol children use.
import { fileURLToPath } from "node:url";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The pattern `sin(0.37·i + seed)·scale` in float32. bench/torch_block.py computes the same numbers
 * (`np.sin(0.37 * np.arange(n) + seed) * scale`), so both stacks start from identical tensors and the
 * first loss doubles as a cross-check, without shipping data files.
 */
export function pattern(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(0.37 * i + seed) * scale;
  return out;
}

/** Numeric command-line flag `--name value` with a default (bench scripts only). */
export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

/** Children report to bench/run.ts with exactly one line of JSON on stdout. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * A benchmark child's command line: `node --import tsx bench/SCRIPT ARGS`. With `published`, the
 * child imports the published, unpatched engine instead (bench/published-engine.mjs; bench/run.ts
 * sets LORASCOPE_PUBLISHED_ENGINE).
 */
export function nodeBench(script: string, args: readonly string[] = [], published = false): string[] {
  const swap = published ? ["--import", PUBLISHED_ENGINE_LOADER] : [];
  return [process.execPath, ...swap, "--import", "tsx", `bench/${script}`, ...args];
}

/** The engine swap, as an absolute path: it also works in NODE_OPTIONS, from any working directory. */
const PUBLISHED_ENGINE_LOADER = fileURLToPath(new URL("./published-engine.mjs", import.meta.url));

/**
 * Environment that puts every Node process of a child on the published engine, the child's own
 * subprocesses included (e.g. `lorascope reproduce` and its workers): the engine swap in NODE_OPTIONS.
 */
export function publishedEngineEnv(): Record<string, string> {
  return { NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import ${PUBLISHED_ENGINE_LOADER}`.trim() };
}

/** Does a child's command or environment swap in the published engine? */
export function usesPublishedEngine(command: readonly string[], env: Record<string, string> = {}): boolean {
  return command.includes(PUBLISHED_ENGINE_LOADER) || (env["NODE_OPTIONS"] ?? "").includes(PUBLISHED_ENGINE_LOADER);
}

/** A table cell: `d` decimals, or – for a number not measured. */
export function fmt(v: number, d = 1): string {
  return Number.isFinite(v) ? v.toFixed(d) : "–";
}
