// Seeded, deterministic bootstrap over seeds. The same (seed, replicate) always draws the same
// resample, so an analysis re-run on the same rows prints the same intervals.
import { prng } from "../core/index.ts";
import { quantile } from "./fit.ts";

/** Indices 0..k-1 drawn k times with replacement, from replicate `b` of the stream `key`. */
export function resampleIndices(key: prng.Key, b: number, k: number): number[] {
  const u = prng.uniform(prng.child(key, b), [k]);
  return Array.from(u, (x) => Math.min(k - 1, Math.floor(x * k)));
}

export interface BootstrapOptions {
  /** Number of bootstrap replicates (default 200). */
  readonly replicates?: number;
  /** Seed of the bootstrap stream (default 0). */
  readonly seed?: number;
  /** Two-sided coverage of the percentile interval (default 0.95). */
  readonly level?: number;
}

export interface BootstrapResult {
  readonly values: number[];
  /** Percentile interval; [NaN, NaN] when no replicate gave a finite value. */
  readonly ci: [number, number];
}

/**
 * Percentile bootstrap of `stat`. `draw(b)` builds replicate b's input (it gets the replicate index
 * so callers can resample several groups independently from one key); non-finite statistics are
 * dropped from the interval (a resample whose optimum left the grid has no slope).
 */
export function bootstrap<T>(
  draw: (b: number) => T,
  stat: (sample: T) => number,
  opts: BootstrapOptions = {},
): BootstrapResult {
  const reps = opts.replicates ?? 200;
  const level = opts.level ?? 0.95;
  const values: number[] = [];
  for (let b = 0; b < reps; b++) values.push(stat(draw(b)));
  const alpha = (1 - level) / 2;
  return { values, ci: [quantile(values, alpha), quantile(values, 1 - alpha)] };
}

/** Root key of a bootstrap stream, named so that different analyses never share draws. */
export function bootstrapKey(seed: number, name: string): prng.Key {
  return prng.fold(prng.key(seed), name);
}
