// Ordinary least squares on (x, y) pairs, its slope confidence interval, and the log–log fit used
// for every width exponent (η* ∝ n^slope, RMS(Z_A) ∝ n^slope, …). Pure host math on numbers.

export interface LineFit {
  readonly slope: number;
  readonly intercept: number;
  /** Standard error of the slope (NaN with fewer than 3 points: no residual degrees of freedom). */
  readonly slopeSE: number;
  /** Number of points used. */
  readonly n: number;
  readonly r2: number;
}

/** OLS fit y = intercept + slope·x. Needs ≥ 2 points with distinct x; otherwise slope is NaN. */
export function ols(xs: readonly number[], ys: readonly number[]): LineFit {
  if (xs.length !== ys.length) throw new Error(`ols: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  if (n < 2) return { slope: NaN, intercept: NaN, slopeSE: NaN, n, r2: NaN };
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: NaN, intercept: NaN, slopeSE: NaN, n, r2: NaN };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  const slopeSE = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  const r2 = syy === 0 ? 1 : 1 - sse / syy;
  return { slope, intercept, slopeSE, n, r2 };
}

/**
 * Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (so ±t·SE is a 95 % CI).
 * Exact table for df ≤ 30 (standard values), then the Cornish–Fisher expansion, which is accurate
 * to < 1e-3 beyond df = 30.
 */
export function t975(df: number): number {
  const table = [
    NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16,
    2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
    2.045, 2.042,
  ];
  if (!(df >= 1)) return NaN;
  const d = Math.floor(df);
  if (d <= 30) return table[d] as number;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * d) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * d * d);
}

/** 95 % t-interval of an OLS slope; [NaN, NaN] with fewer than 3 points. */
export function slopeTInterval(fit: LineFit): [number, number] {
  const t = t975(fit.n - 2);
  if (!Number.isFinite(fit.slopeSE) || !Number.isFinite(t)) return [NaN, NaN];
  return [fit.slope - t * fit.slopeSE, fit.slope + t * fit.slopeSE];
}

/**
 * Fit log(y) = a + slope·log(x) over the pairs where both are finite and positive, so a width
 * exponent reads straight off `slope`. Natural logs; the exponent does not depend on the base.
 */
export function logLogFit(xs: readonly number[], ys: readonly number[]): LineFit {
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    const y = ys[i] as number;
    if (x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) {
      lx.push(Math.log(x));
      ly.push(Math.log(y));
    }
  }
  return ols(lx, ly);
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Geometric mean; +∞ if any value is +∞ (a diverged run poisons its grid point), NaN if empty. */
export function geoMean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) {
    if (x === Infinity) return Infinity;
    if (!(x > 0)) return NaN;
    s += Math.log(x);
  }
  return Math.exp(s / xs.length);
}

/** Linear-interpolated quantile of unsorted finite values (q in [0, 1]); NaN if none. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = v[lo] as number;
  const b = v[hi] as number;
  return a + (b - a) * (pos - lo);
}
