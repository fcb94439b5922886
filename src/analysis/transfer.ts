// Learning-rate transfer: fit log η* on log width over the smaller half of the widths, extrapolate
// to the larger half, and score the prediction by its log-ratio ln(predicted / measured)
// (0 = perfect, ±0.69 = off by a factor 2). Beside it, the theory's own prediction: η* at the
// largest fitted width carried up with the theoretical exponent.
import { logLogFit } from "./fit.ts";

export interface TransferPoint {
  readonly width: number;
  readonly measured: number;
  /** Prediction from the fitted power law. */
  readonly predicted: number;
  /** ln(predicted / measured). */
  readonly logRatio: number;
  /** Prediction from the theory exponent anchored at the largest fitted width (NaN without one). */
  readonly theoryPredicted: number;
  readonly theoryLogRatio: number;
}

export interface Transfer {
  /** Widths the power law was fitted on (the smaller half, at least two). */
  readonly fitWidths: number[];
  readonly slope: number;
  readonly intercept: number;
  readonly points: TransferPoint[];
  /** Mean |logRatio| over the predicted widths (NaN if none). */
  readonly meanAbsLogRatio: number;
}

/**
 * `widths` ascending with their measured η* (NaN / non-positive η* are skipped). The fit uses the
 * first ⌊k/2⌋ usable widths (at least 2); every larger width is predicted. Needs ≥ 3 usable widths.
 */
export function transferPrediction(
  widths: readonly number[],
  lrStar: readonly number[],
  theoryExponent?: number,
): Transfer | null {
  const pts = widths
    .map((w, i) => ({ w, lr: lrStar[i] as number }))
    .filter((p) => p.lr > 0 && Number.isFinite(p.lr))
    .sort((a, b) => a.w - b.w);
  if (pts.length < 3) return null;
  const k = Math.max(2, Math.floor(pts.length / 2));
  const small = pts.slice(0, k);
  const large = pts.slice(k);
  const fit = logLogFit(
    small.map((p) => p.w),
    small.map((p) => p.lr),
  );
  const anchor = small[small.length - 1] as { w: number; lr: number };
  const points = large.map((p): TransferPoint => {
    const predicted = Math.exp(fit.intercept + fit.slope * Math.log(p.w));
    const theoryPredicted = theoryExponent === undefined ? NaN : anchor.lr * (p.w / anchor.w) ** theoryExponent;
    return {
      width: p.w,
      measured: p.lr,
      predicted,
      logRatio: Math.log(predicted / p.lr),
      theoryPredicted,
      theoryLogRatio: Math.log(theoryPredicted / p.lr),
    };
  });
  const meanAbsLogRatio = points.reduce((s, p) => s + Math.abs(p.logRatio), 0) / points.length;
  return { fitWidths: small.map((p) => p.w), slope: fit.slope, intercept: fit.intercept, points, meanAbsLogRatio };
}
