// A learning-rate grid on the command line: "a,b,c" or a log-spaced "min:max:count", each number
// may be written 2^k; and the same grid written back for help and config files.
import { check } from "../core/errors.ts";
import { logSpaced, TOY_LIMITS } from "../experiments/toy/spec.ts";

/** A log-spaced grid as --lrs writes it: "2^-14:2^-1:16" (powers of two shown as such). */
export function lrsText(lrs: readonly number[]): string {
  const show = (x: number): string => {
    const k = Math.log2(x);
    return Math.abs(k - Math.round(k)) < 1e-9 ? `2^${Math.round(k)}` : String(x);
  };
  const lo = lrs[0] ?? NaN;
  const hi = lrs[lrs.length - 1] ?? NaN;
  return lrs.length === 1 ? show(lo) : `${show(lo)}:${show(hi)}:${lrs.length}`;
}

/** Parse "a,b,c" or "min:max:count" (each number may be written 2^-k). */
export function parseLrs(raw: string): number[] {
  const num = (s: string): number => {
    const t = s.trim();
    const pow = /^2\^(-?\d+(?:\.\d+)?)$/.exec(t);
    const v = pow ? 2 ** Number(pow[1]) : t === "" ? NaN : Number(t);
    check(Number.isFinite(v) && v > 0, `--lrs values must be positive numbers (or 2^k), got "${s}"`);
    check(
      v >= TOY_LIMITS.minLr && v <= TOY_LIMITS.maxLr,
      `--lrs values must be between ${TOY_LIMITS.minLr} and ${TOY_LIMITS.maxLr}, got "${s}"`,
    );
    return v;
  };
  if (raw.includes(":")) {
    const parts = raw.split(":");
    check(parts.length === 3, `--lrs range must be min:max:count, got "${raw}"`);
    const [lo, hi, c] = parts as [string, string, string];
    const count = Number(c);
    check(Number.isInteger(count) && count >= 1, `--lrs count must be a positive integer, got "${c}"`);
    check(count <= TOY_LIMITS.maxLrs, `--lrs count must be at most ${TOY_LIMITS.maxLrs}, got ${c}`);
    const min = num(lo);
    const max = num(hi);
    check(max >= min, `--lrs range max must be ≥ min, got "${raw}"`);
    check(count === 1 || max > min, `--lrs range ${raw} repeats one learning rate; give max > min or count 1`);
    return logSpaced(min, max, count);
  }
  const items = raw.split(",").filter((s) => s.trim() !== "");
  check(items.length > 0, "--lrs needs at least one learning rate");
  const lrs = items.map(num);
  const twice = lrs.find((x, i) => lrs.indexOf(x) !== i);
  check(twice === undefined, `--lrs lists ${twice} more than once; give each learning rate once`);
  return lrs;
}

