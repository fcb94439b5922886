// Synthetic sweep rows from known power laws, so analysis tests can check recovered exponents and
// the report can be built without training anything.
//   log trainLoss = log L0 + k·(log lr − log η*_s(n))²     η*_s(n) = c·n^p · exp(jitter_s(n))
//   max RMS(Z_B)  = (lr / edge(n))²                         edge(n) = e·n^q   (threshold 1 ⇒ edge)
//   diverged      ⇔ lr > divergeAt · edge(n)
import type { FinalRow, Row, StepRow } from "../../src/experiments/toy/rows.ts";

export interface SyntheticLaw {
  readonly lrExponent: number;
  readonly lrConst: number;
  readonly edgeExponent: number;
  readonly edgeConst: number;
  /** RMS(Z_A) ∝ n^zaExponent. */
  readonly zaExponent: number;
}

export const LAWS: Record<string, SyntheticLaw> = {
  "init-a": { lrExponent: -0.5, lrConst: 0.4, edgeExponent: -0.5, edgeConst: 2, zaExponent: 0.5 },
  "init-b": { lrExponent: -1, lrConst: 1.5, edgeExponent: -1, edgeConst: 6, zaExponent: 0 },
};

export interface SyntheticOptions {
  readonly widths?: readonly number[];
  /** lr grid: 2^lo … 2^hi with `perOctave` points per octave. */
  readonly lrLog2?: readonly [number, number];
  readonly perOctave?: number;
  readonly seeds?: readonly number[];
  /** Std of the per-(seed, width) log-η* jitter (0 = exact power law). */
  readonly jitter?: number;
  /** lr / edge above which a run diverges. */
  readonly divergeAt?: number;
  readonly steps?: number;
  readonly logEvery?: number;
  /** Emit StepRows too (the report needs them). */
  readonly stepRows?: boolean;
  readonly inits?: readonly string[];
}

/** Deterministic pseudo-normal from integers (hash → Box–Muller); no state. */
function noise(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ (Math.round(x * 1000) | 0), 16777619) >>> 0;
  const u1 = ((Math.imul(h, 2654435761) >>> 0) + 0.5) / 4294967296;
  const u2 = ((Math.imul(h ^ 0x5bd1e995, 40503) >>> 0) + 0.5) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function syntheticRows(opts: SyntheticOptions = {}): Row[] {
  const widths = opts.widths ?? [64, 128, 256, 512, 1024, 2048];
  const [lo, hi] = opts.lrLog2 ?? [-14, 0];
  const ppo = opts.perOctave ?? 2;
  const seeds = opts.seeds ?? [0, 1, 2];
  const jitter = opts.jitter ?? 0;
  const divergeAt = opts.divergeAt ?? 8;
  const steps = opts.steps ?? 50;
  const logEvery = opts.logEvery ?? 10;
  const lrs = Array.from({ length: (hi - lo) * ppo + 1 }, (_, i) => 2 ** (lo + i / ppo));
  const rows: Row[] = [];
  for (const init of opts.inits ?? ["init-a", "init-b"]) {
    const law = LAWS[init] as SyntheticLaw;
    for (const width of widths) {
      const edge = law.edgeConst * width ** law.edgeExponent;
      const za = 1.5 * (width / 64) ** law.zaExponent;
      for (const seed of seeds) {
        const lrStar = law.lrConst * width ** law.lrExponent * Math.exp(jitter * noise(seed, width, init.length));
        for (const lr of lrs) {
          const diverged = lr > divergeAt * edge;
          const x = Math.log(lr / lrStar);
          const train = 0.05 * Math.exp(0.3 * x * x);
          // The test optimum sits at 0.8·η*, so test and train criteria differ measurably.
          const xt = Math.log(lr / (0.8 * lrStar));
          const test = 0.07 * Math.exp(0.3 * xt * xt);
          const maxRmsZB = (lr / edge) ** 2;
          const key = { width, init, lr, seed };
          if (opts.stepRows ?? false) {
            for (let s = 0; s <= steps; s += logEvery) {
              const f = s / steps;
              const step: StepRow = {
                ...key,
                kind: "step",
                step: s,
                trainLoss: 1.8 + (train - 1.8) * f,
                testLoss: 1.8 + (test - 1.8) * f,
                rmsZA: za * (0.5 + 0.5 * f),
                rmsZB: maxRmsZB * f,
                delta1: s === 0 ? NaN : 0.1 / (1 + f),
                delta2: s === 0 ? NaN : (init === "init-a" ? 0.08 : 0.08 * (64 / width)) * (1 + f),
                delta3: s === 0 ? NaN : 0.01 * f,
                dA: f * lr * width,
                dB: f * lr * 10,
                updA: lr * Math.sqrt(width * 4),
                updB: lr * Math.sqrt(width * 4),
              };
              rows.push(step);
            }
          }
          const final: FinalRow = {
            ...key,
            kind: "final",
            steps,
            diverged,
            divergedAt: diverged ? 7 : null,
            initialTrainLoss: 1.8,
            trainLoss: diverged ? NaN : train,
            testLoss: diverged ? NaN : test,
            rmsZA: diverged ? NaN : za,
            rmsZB: diverged ? NaN : maxRmsZB,
            maxRmsZB: diverged ? Infinity : maxRmsZB,
            dA: lr * width,
            dB: lr * 10,
          };
          rows.push(final);
        }
      }
    }
  }
  return rows;
}
