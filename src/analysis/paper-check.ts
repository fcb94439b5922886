// The paper's predictions checked on a finetuning sweep, for any study: Hayou, Ghosh & Yu (2024)
// predict, for finetuning from a pretrained model, that Init[A] (init-a) has the larger optimal
// learning rate, reaches the better best score on average, and that Init[B] (init-b) leaves B
// undertrained. A study gives its rows, η* per init (chosen on validation) and its score on the test
// split, oriented so that higher is better (accuracy; minus perplexity for a language model).
import type { DynamicsPoint } from "../experiments/rows.ts";

export interface MeanStd {
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for a single seed. */
  readonly std: number;
  readonly n: number;
}

/** What the check reads from a row. */
export interface PaperRow {
  readonly init: string;
  readonly lr: number;
  readonly seed: number;
  /** Mean over modules per measurement; absent when the run recorded none. */
  readonly dynamics?: readonly DynamicsPoint[];
}

export interface PaperCheck {
  readonly lrA: number;
  readonly lrB: number;
  /** η*_A / η*_B. */
  readonly lrRatio: number;
  /** init-a's test score at η*_A minus init-b's at η*_B, paired by seed (higher is better). */
  readonly gain: MeanStd;
  /** η*_A > η*_B. */
  readonly largerLr: boolean;
  /** The mean gain is positive and larger than one standard error of the paired differences. */
  readonly better: boolean;
  /** The mean gain is within one standard error of 0 (or only one seed): no difference shown. */
  readonly tie: boolean;
  /**
   * How much of the change of Z_B came from updating B: Σδ² / Σδ¹ over every measured interval of a
   * run, mean over seeds, at each init's η* (null without dynamics). The paper: under Init[B], B is
   * undertrained (δ² → 0 with width), under Init[A] both terms are Θ(1).
   */
  readonly bShare: { readonly a: number; readonly b: number } | null;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** Standard error of the mean, std/√n; Infinity for a single value (nothing can be shown from one). */
export function standardError(m: MeanStd): number {
  return m.n > 1 ? m.std / Math.sqrt(m.n) : Infinity;
}

/**
 * score(a-run) − score(b-run) over the seeds both cells ran, as mean ± std over seeds: two runs of
 * one seed share the base model and the data order, so the init is the only difference between them.
 */
export function pairedBySeed<R extends PaperRow>(
  rows: readonly R[],
  [a, lrA]: readonly [string, number],
  [b, lrB]: readonly [string, number],
  score: (r: R) => number,
): MeanStd {
  const at = (init: string, lr: number) =>
    new Map(rows.filter((r) => r.init === init && r.lr === lr).map((r) => [r.seed, score(r)]));
  const [ma, mb] = [at(a, lrA), at(b, lrB)];
  return meanStd([...ma].filter(([seed]) => mb.has(seed)).map(([seed, v]) => v - (mb.get(seed) as number)));
}

/**
 * The grid's cells per init (lrs ascending) and η* per init: the lr whose runs rank highest by
 * `rank` (compared element by element, higher first; ties go to the smaller lr). Each cell is
 * summarised by `cell`.
 */
export function chooseLrs<R extends PaperRow, C>(
  rows: readonly R[],
  rank: (runs: readonly R[]) => readonly number[],
  cell: (init: string, lr: number, runs: readonly R[]) => C,
): { readonly grid: C[]; readonly optimalLr: Record<string, number> } {
  const grid: C[] = [];
  const optimalLr: Record<string, number> = {};
  const beats = (x: readonly number[], y: readonly number[]): boolean => {
    for (let i = 0; i < x.length; i++) {
      const [xi, yi] = [x[i] as number, y[i] as number];
      if (xi !== yi) return xi > yi;
    }
    return false;
  };
  for (const init of [...new Set(rows.map((r) => r.init))].sort()) {
    const mine = rows.filter((r) => r.init === init);
    let best: { lr: number; key: readonly number[] } | undefined;
    for (const lr of [...new Set(mine.map((r) => r.lr))].sort((x, y) => x - y)) {
      const at = mine.filter((r) => r.lr === lr);
      grid.push(cell(init, lr, at));
      const key = rank(at);
      if (best === undefined || beats(key, best.key)) best = { lr, key };
    }
    if (best !== undefined) optimalLr[init] = best.lr;
  }
  return { grid, optimalLr };
}

/** The check, when the sweep has both init-a and init-b; `score` is the test score, higher better. */
export function paperCheck<R extends PaperRow>(
  rows: readonly R[],
  optimalLr: Readonly<Record<string, number>>,
  score: (r: R) => number,
): PaperCheck | null {
  const lrA = optimalLr["init-a"];
  const lrB = optimalLr["init-b"];
  if (lrA === undefined || lrB === undefined) return null;
  const gain = pairedBySeed(rows, ["init-a", lrA], ["init-b", lrB], score);
  const tie = !(Math.abs(gain.mean) > standardError(gain));
  const share = (init: string, lr: number): number => {
    const ratios = rows.filter((r) => r.init === init && r.lr === lr && r.dynamics !== undefined).map((r) => {
      const ds = (r.dynamics ?? []).filter((d) => Number.isFinite(d.delta1) && Number.isFinite(d.delta2));
      return ds.reduce((s, d) => s + d.delta2, 0) / ds.reduce((s, d) => s + d.delta1, 0);
    });
    return meanStd(ratios.filter(Number.isFinite)).mean;
  };
  const [shareA, shareB] = [share("init-a", lrA), share("init-b", lrB)];
  const bShare = Number.isFinite(shareA) && Number.isFinite(shareB) ? { a: shareA, b: shareB } : null;
  return { lrA, lrB, lrRatio: lrA / lrB, gain, largerLr: lrA > lrB, better: !tie && gain.mean > 0, tie, bShare };
}

/** How a study names its score in the verdicts. */
export interface ScoreWords {
  /** "best test accuracy", "best test perplexity". */
  readonly name: string;
  /** The prediction's words: "best accuracy", "best perplexity". */
  readonly headline: string;
  /** The paired gain in the score's units, e.g. "+2.11 ± 3.01 points". */
  readonly format: (gain: MeanStd) => string;
  /** The comparative of a positive gain: "higher" for accuracy, "lower" for perplexity. */
  readonly better: string;
  readonly worse: string;
}

/** One plain sentence per prediction ("<prediction> — <verdict>: <numbers>"), for the report and the terminal. */
export function paperVerdict(p: PaperCheck, words: ScoreWords): string[] {
  const g = p.gain;
  const diff = `${words.format(g)} over ${g.n} seed(s) (init-a − init-b, paired by seed)`;
  const lr = p.largerLr
    ? `agrees: η*_A = ${p.lrA} is larger than η*_B = ${p.lrB} (ratio ${p.lrRatio.toPrecision(3)})`
    : p.lrA === p.lrB
      ? `does not agree: η*_A = η*_B = ${p.lrA} on this grid`
      : `does not agree: η*_A = ${p.lrA} is smaller than η*_B = ${p.lrB}`;
  const score = p.better
    ? `agrees: init-a's ${words.name} is ${words.better}, ${diff}`
    : p.tie
      ? `not shown: the difference, ${diff}, is within one standard error of 0`
      : `does not agree: init-a's ${words.name} is ${words.worse}, ${diff}`;
  const out = [`init-a has the larger η* — ${lr}`, `init-a reaches the better ${words.headline} — ${score}`];
  if (p.bShare !== null) {
    const { a, b } = p.bShare;
    const f = (x: number): string => x.toPrecision(2);
    out.push(
      `init-b leaves B undertrained — ${b < a ? "agrees" : "does not agree"}: the share of B's update in the change of Z_B, Σδ²/Σδ¹ over training, is ${f(b)} under init-b at η*_B against ${f(a)} under init-a at η*_A`,
    );
  }
  return out;
}
