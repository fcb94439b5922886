// Analysis of a language-model finetuning sweep (learning rate × adapter init × seed): pure functions
// of the run rows, no engine. η* of an init is the learning rate with the lowest validation
// perplexity averaged over seeds (the test split never chooses anything); a diverged run counts as
// perplexity +∞, so it never wins. At η* the init's validation and test perplexity are summarised
// over seeds, and init pairs are compared run by run, paired by seed (same base model, same data
// order: the adapter's start is the only difference), with the standard error of the differences.
import { quantile } from "./fit.ts";
import {
  chooseLrs,
  meanStd,
  pairedBySeed,
  paperCheck,
  paperVerdict as paperVerdictIn,
  standardError,
  type MeanStd,
  type PaperCheck,
} from "./paper-check.ts";
import type { LmRunRow } from "../experiments/lm/rows.ts";

export type { LmRunRow };

/** One (init, lr) cell over seeds. */
export interface LmGridCell {
  readonly init: string;
  readonly lr: number;
  readonly validation: MeanStd;
  readonly test: MeanStd;
  readonly diverged: number;
  readonly collapsed: number;
  readonly runs: number;
}

/** A − B of a perplexity at each init's η*, paired by seed, with the standard error of the mean. */
export interface PairedDifference extends MeanStd {
  readonly a: string;
  readonly b: string;
  /** std / √n; +∞ for one seed. */
  readonly se: number;
}

export interface LmSweepSummary {
  /** η* per init, chosen on mean validation perplexity; ties go to the smaller lr. */
  readonly optimalLr: Record<string, number>;
  /** Validation and test perplexity at η* over seeds, per init. */
  readonly best: Record<string, { readonly validation: MeanStd; readonly test: MeanStd }>;
  /** For every pair of inits (sorted names, a < b): a − b at their η*, validation and test. */
  readonly differences: ReadonlyArray<{ readonly validation: PairedDifference; readonly test: PairedDifference }>;
  readonly diverged: number;
  readonly collapsed: number;
  readonly runs: number;
  /** Median training tokens/s over runs; the largest peak memory (MiB). */
  readonly speed: { readonly tokensPerSecond: number; readonly peakRssMiB: number };
  /**
   * The paper's predictions, scored on test perplexity (lower is better), when init-a and init-b are
   * both there; on validation perplexity when the sweep has no test split (a text file and --valid).
   */
  readonly paper: PaperCheck | null;
  /** Which perplexity the paper check scored. */
  readonly paperSplit: "test" | "validation";
  readonly grid: ReadonlyArray<LmGridCell>;
  /**
   * Per init at its η*: how the change of Z_B splits between δ¹ (A's update), δ² (B's update) and δ³
   * (both), as shares of δ¹ + δ² + δ³ summed over every measured interval, mean over seeds. Absent
   * for an init whose runs recorded no dynamics.
   */
  readonly deltaShares: Readonly<Record<string, DeltaShares>>;
}

export interface DeltaShares {
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
}

/** A run's δ shares over training (NaN when it measured nothing finite). */
function runShares(r: LmRunRow): DeltaShares {
  const ds = (r.dynamics ?? []).filter((d) => [d.delta1, d.delta2, d.delta3].every(Number.isFinite));
  const sum = (k: keyof DeltaShares): number => ds.reduce((s, d) => s + d[k], 0);
  const all = sum("delta1") + sum("delta2") + sum("delta3");
  return { delta1: sum("delta1") / all, delta2: sum("delta2") / all, delta3: sum("delta3") / all };
}

const ppl = (h: LmRunRow["validation"], diverged: boolean): number =>
  diverged || h === null || !Number.isFinite(h.perplexity) ? Infinity : h.perplexity;
const valPpl = (r: LmRunRow): number => ppl(r.validation, r.diverged);
const testPpl = (r: LmRunRow): number => ppl(r.test, r.diverged);

export function analyzeLmSweep(rows: readonly LmRunRow[]): LmSweepSummary {
  // Without a test split (a text file and --valid), the paper check scores validation perplexity.
  const hasTest = rows.some((r) => r.test !== null || (r.testBefore ?? null) !== null);
  const { grid, optimalLr } = chooseLrs(
    rows,
    // A cell of diverged runs has mean +∞ and never wins (NaN, ∞ − ∞, can occur in the std only).
    (at) => [-meanStd(at.map(valPpl)).mean],
    (init, lr, at): LmGridCell => ({
      init,
      lr,
      validation: meanStd(at.map(valPpl)),
      test: meanStd(at.map(testPpl)),
      diverged: at.filter((r) => r.diverged).length,
      collapsed: at.filter((r) => r.collapsed).length,
      runs: at.length,
    }),
  );
  const best: Record<string, { validation: MeanStd; test: MeanStd }> = {};
  for (const [init, lr] of Object.entries(optimalLr)) {
    const atBest = rows.filter((r) => r.init === init && r.lr === lr);
    best[init] = { validation: meanStd(atBest.map(valPpl)), test: meanStd(atBest.map(testPpl)) };
  }
  type Cell = readonly [string, number];
  const paired = (cellA: Cell, cellB: Cell, pick: (r: LmRunRow) => number): PairedDifference => {
    const m = pairedBySeed(rows, cellA, cellB, pick);
    return { ...m, a: cellA[0], b: cellB[0], se: standardError(m) };
  };
  const inits = Object.keys(optimalLr).sort();
  const differences: Array<LmSweepSummary["differences"][number]> = [];
  for (let i = 0; i < inits.length; i++) {
    for (let j = i + 1; j < inits.length; j++) {
      const [a, b] = [inits[i] as string, inits[j] as string];
      const [cellA, cellB] = [[a, optimalLr[a] as number], [b, optimalLr[b] as number]] as const;
      differences.push({ validation: paired(cellA, cellB, valPpl), test: paired(cellA, cellB, testPpl) });
    }
  }
  const deltaShares: Record<string, DeltaShares> = {};
  for (const [init, lr] of Object.entries(optimalLr)) {
    const atBest = rows.filter((r) => r.init === init && r.lr === lr);
    const shares = atBest.map(runShares).filter((x) => Number.isFinite(x.delta1));
    if (shares.length === 0) continue;
    const mean = (k: keyof DeltaShares): number => meanStd(shares.map((x) => x[k])).mean;
    deltaShares[init] = { delta1: mean("delta1"), delta2: mean("delta2"), delta3: mean("delta3") };
  }
  const finite = (xs: Array<number | undefined>): number[] =>
    xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const rss = finite(rows.map((r) => r.peakRssMiB));
  return {
    optimalLr,
    best,
    differences,
    diverged: rows.filter((r) => r.diverged).length,
    collapsed: rows.filter((r) => r.collapsed).length,
    runs: rows.length,
    speed: {
      tokensPerSecond: quantile(finite(rows.map((r) => r.tokensPerSecond)), 0.5),
      peakRssMiB: rss.length === 0 ? NaN : Math.max(...rss),
    },
    // Higher is better for the check: minus the perplexity.
    paper: paperCheck(rows, optimalLr, (r) => -(hasTest ? testPpl(r) : valPpl(r))),
    paperSplit: hasTest ? "test" : "validation",
    grid,
    deltaShares,
  };
}

const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : String(x));
const pm = (m: MeanStd): string => `${num(m.mean)} ± ${num(m.std)}`;

/** The paper's predictions in the words of perplexity (a positive gain is a lower perplexity for init-a). */
export function lmPaperVerdict(p: PaperCheck, split: "test" | "validation" = "test"): string[] {
  return paperVerdictIn(p, {
    name: `best ${split} perplexity`,
    headline: "best perplexity",
    // gain = −ppl_A − (−ppl_B) = ppl_B − ppl_A; shown as init-a − init-b in perplexity.
    format: (g) => `${num(-g.mean)} ± ${num(g.std)} perplexity`,
    better: "lower",
    worse: "higher",
  });
}

/** The `--json` document. */
export function lmSweepJson(s: LmSweepSummary): string {
  return JSON.stringify({
    optimalLr: s.optimalLr,
    best: s.best,
    differences: s.differences,
    diverged: s.diverged,
    collapsed: s.collapsed,
    runs: s.runs,
    speed: s.speed,
    paper: s.paper,
    paperSplit: s.paperSplit,
    grid: s.grid,
    deltaShares: s.deltaShares,
  });
}

/** The terminal and markdown summary. */
export function formatLmSweep(s: LmSweepSummary, title: string): string {
  // Without a test split the test columns would only say ∞: they are left out.
  const test = s.paperSplit === "test";
  const lines = [
    `## ${title}`,
    "",
    `| init | lr | validation perplexity |${test ? " test perplexity |" : ""} diverged | collapsed |`,
    `|---|---|---|${test ? "---|" : ""}---|---|`,
  ];
  for (const c of s.grid) {
    const star = s.optimalLr[c.init] === c.lr ? " ★" : "";
    lines.push(`| ${c.init} | ${c.lr}${star} | ${pm(c.validation)} |${test ? ` ${pm(c.test)} |` : ""} ${c.diverged}/${c.runs} | ${c.collapsed}/${c.runs} |`);
  }
  lines.push("", "★ = η*, the lowest mean validation perplexity (mean ± sample std over seeds; a diverged run counts as ∞).", "");
  for (const [init, lr] of Object.entries(s.optimalLr)) {
    const b = s.best[init];
    if (b !== undefined) {
      lines.push(`- ${init}: η* = ${lr}, validation perplexity ${pm(b.validation)}${test ? `, test ${pm(b.test)}` : ""} (${b.validation.n} seed(s))`);
    }
  }
  for (const d of s.differences) {
    lines.push(
      `- ${d.validation.a} − ${d.validation.b} at their η*, paired by seed: validation ${num(d.validation.mean)} (SE ${num(d.validation.se)})` +
        (test ? `, test ${num(d.test.mean)} (SE ${num(d.test.se)})` : ""),
    );
  }
  for (const [init, d] of Object.entries(s.deltaShares)) {
    const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
    lines.push(`- ${init} at η*: the change of Z_B is δ¹ ${pct(d.delta1)}, δ² ${pct(d.delta2)}, δ³ ${pct(d.delta3)} (A's update, B's, both)`);
  }
  lines.push(`- ${s.diverged} of ${s.runs} runs diverged, ${s.collapsed} collapsed`);
  if (s.paper !== null) for (const v of lmPaperVerdict(s.paper, s.paperSplit)) lines.push(`- the paper predicts that ${v}`);
  return lines.join("\n") + "\n";
}
