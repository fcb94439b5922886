// Analysis of a USE-lite finetuning sweep (learning rate × adapter init × seed): pure functions of
// the run rows, no engine. η* of an init is the learning rate with the best validation accuracy
// averaged over seeds (test accuracy never chooses anything); the init's accuracy is the test
// accuracy at that η*, as mean and sample standard deviation over seeds. The frozen-encoder linear
// probe is the baseline, summarised the same way.
import { quantile } from "./fit.ts";
import { meanDynamics, type DynamicsPoint } from "../experiments/rows.ts";
import { type EncoderRunRow } from "../experiments/encoder/rows.ts";
import { chooseLrs, meanStd, paperCheck, paperVerdict as paperVerdictIn, standardError, type MeanStd, type PaperCheck } from "./paper-check.ts";

export type { EncoderRunRow, MeanStd, PaperCheck };
export { meanStd };

/** Finetune minus probe on the test split at η*, paired by seed. */
export interface PairedGain extends MeanStd {
  /** Seeds where the finetune is strictly more accurate than the probe. */
  readonly above: number;
  /** The mean gain is more than two standard errors (std/√n, n ≥ 2) above 0. */
  readonly clear: boolean;
}

/** One (init, lr) cell over seeds. */
export interface GridCell {
  readonly init: string;
  readonly lr: number;
  readonly validation: MeanStd;
  readonly test: MeanStd;
  readonly diverged: number;
  /** Runs that collapsed to one class (encoder/finetune.ts); null when no row of the cell records it. */
  readonly collapsed: number | null;
  /**
   * Accuracy minus the probe's on every held-out example (validation and test pooled), paired by
   * seed. At a fixed learning rate nothing was chosen on either split, so this compares finetune and
   * probe on twice the examples of the test split alone.
   */
  readonly heldOutGain: MeanStd;
  /**
   * The last dynamics measurement of each run (mean over modules), averaged over the seeds that have
   * one: RMS(Z_A), RMS(Z_B) and the last interval's δ¹, δ², δ³. Null when no run recorded dynamics.
   */
  readonly dynamicsAtEnd: (Omit<DynamicsPoint, "step"> & { readonly n: number }) | null;
}

export interface EncoderSweepSummary {
  /**
   * η* per init, chosen on mean validation accuracy; ties (common: a few hundred validation
   * examples give accuracy in steps of 1/n) go to the lower mean validation loss, then the smaller lr.
   */
  readonly optimalLr: Record<string, number>;
  /** Test accuracy at η* over seeds, per init. */
  readonly bestAccuracy: Record<string, MeanStd>;
  /** Linear-probe test accuracy over seeds (one value per seed). */
  readonly probe: MeanStd;
  /**
   * Test accuracy at η* minus the probe's, per seed (same split, same test sentences), per init:
   * the paired gain of finetuning, with less noise than comparing the two means.
   */
  readonly gainOverProbe: Record<string, PairedGain>;
  /** Medians over runs of training and inference examples/s; the largest peak memory (MiB). */
  readonly speed: {
    readonly trainExamplesPerSecond: number;
    readonly evalExamplesPerSecond: number;
    readonly peakRssMiB: number;
  };
  /** The most texts any run cut to 128 tokens (0: none). */
  readonly truncated: number;
  /** The paper's two predictions, when the sweep has both init-a and init-b. */
  readonly paper: PaperCheck | null;
  /** Mean validation and test accuracy per init and lr, for the table. */
  readonly grid: ReadonlyArray<GridCell>;
}

/** A difference of accuracies as signed percentage points, "+2.11 ± 3.01". */
const points = (m: MeanStd): string =>
  `${m.mean >= 0 ? "+" : "−"}${(100 * Math.abs(m.mean)).toFixed(2)} ± ${(100 * m.std).toFixed(2)}`;

/** The paper's predictions in the words of accuracy (gains in percentage points). */
export function paperVerdict(p: PaperCheck): string[] {
  return paperVerdictIn(p, {
    name: "best test accuracy",
    headline: "best accuracy",
    format: (g) => `${points(g)} points`,
    better: "higher",
    worse: "lower",
  });
}

/** A diverged run counts as accuracy 0, so it never wins η*. */
const valAcc = (r: EncoderRunRow): number =>
  r.diverged || !Number.isFinite(r.validation.accuracy) ? 0 : r.validation.accuracy;
/** Validation loss for tie-breaking; a diverged run or a row without it never wins a tie. */
const valLoss = (r: EncoderRunRow): number =>
  r.diverged || !Number.isFinite(r.validation.loss) ? Infinity : (r.validation.loss as number);
const testAcc = (r: EncoderRunRow): number => (r.diverged || !Number.isFinite(r.test.accuracy) ? 0 : r.test.accuracy);

export function analyzeEncoderSweep(rows: readonly EncoderRunRow[]): EncoderSweepSummary {
  // Ties of mean validation accuracy (common: accuracy moves in steps of 1/n) go to the lower mean loss.
  const { grid, optimalLr } = chooseLrs(
    rows,
    (at) => [meanStd(at.map(valAcc)).mean, -meanStd(at.map(valLoss)).mean],
    (init, lr, at): GridCell => ({
      init,
      lr,
      validation: meanStd(at.map(valAcc)),
      test: meanStd(at.map(testAcc)),
      diverged: at.filter((r) => r.diverged).length,
      collapsed: collapsedCount(at),
      heldOutGain: meanStd(at.map(heldOutGain)),
      dynamicsAtEnd: endDynamics(at),
    }),
  );
  const bestAccuracy: Record<string, MeanStd> = {};
  const gainOverProbe: Record<string, PairedGain> = {};
  for (const [init, lr] of Object.entries(optimalLr)) {
    const atBest = rows.filter((r) => r.init === init && r.lr === lr);
    bestAccuracy[init] = meanStd(atBest.map(testAcc));
    gainOverProbe[init] = pairedGain(atBest.map((r) => testAcc(r) - r.probe.test.accuracy));
  }
  // The probe depends only on the seed's data: one value per seed.
  const probeBySeed = new Map(rows.map((r) => [r.seed, r.probe.test.accuracy]));
  const finite = (xs: Array<number | undefined>): number[] =>
    xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const speed = {
    trainExamplesPerSecond: quantile(finite(rows.map((r) => r.examplesPerSecond)), 0.5),
    evalExamplesPerSecond: quantile(finite(rows.map((r) => r.evalExamplesPerSecond)), 0.5),
    peakRssMiB: maxOrNaN(finite(rows.map((r) => r.peakRssMiB))),
  };
  const truncated = Math.max(0, ...finite(rows.map((r) => r.truncated)));
  return {
    optimalLr,
    bestAccuracy,
    probe: meanStd([...probeBySeed.values()]),
    gainOverProbe,
    speed,
    truncated,
    paper: paperCheck(rows, optimalLr, testAcc),
    grid,
  };
}

function pairedGain(gains: readonly number[]): PairedGain {
  const m = meanStd(gains);
  return { ...m, above: gains.filter((g) => g > 0).length, clear: m.mean > 2 * standardError(m) };
}

function collapsedCount(runs: readonly EncoderRunRow[]): number | null {
  return runs.some((r) => r.collapsed !== undefined) ? runs.filter((r) => r.collapsed === true).length : null;
}

/** Pooled validation + test accuracy minus the probe's (weights: the split sizes; equal if unknown). */
function heldOutGain(r: EncoderRunRow): number {
  const [nv, nt] = r.splits === undefined ? [1, 1] : [r.splits.used.validation, r.splits.used.test];
  const pooled = (v: number, t: number): number => (nv * v + nt * t) / (nv + nt);
  return pooled(valAcc(r), testAcc(r)) - pooled(r.probe.validation.accuracy, r.probe.test.accuracy);
}

function endDynamics(runs: readonly EncoderRunRow[]): GridCell["dynamicsAtEnd"] {
  const ends = runs.flatMap((r) => r.dynamics?.slice(-1) ?? []);
  if (ends.length === 0) return null;
  const { step: _step, ...mean } = meanDynamics(ends, NaN);
  return { ...mean, n: ends.length };
}

function maxOrNaN(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

/** The `--json` line: η* and accuracy (mean, std) per init, and the probe. */
export function encoderSweepJson(s: EncoderSweepSummary): string {
  const ms = (m: MeanStd) => ({ mean: m.mean, std: m.std });
  return JSON.stringify({
    optimalLr: s.optimalLr,
    bestAccuracy: Object.fromEntries(Object.entries(s.bestAccuracy).map(([k, v]) => [k, ms(v)])),
    probe: ms(s.probe),
    gainOverProbe: Object.fromEntries(
      Object.entries(s.gainOverProbe).map(([k, v]) => [k, { ...ms(v), above: v.above, n: v.n, clear: v.clear }]),
    ),
    paper:
      s.paper === null
        ? null
        : {
            largerLr: s.paper.largerLr,
            betterAccuracy: s.paper.better,
            accuracyGain: ms(s.paper.gain),
          },
    speed: s.speed,
  });
}

/** A short markdown summary (also readable in a terminal). */
export function formatEncoderSweep(s: EncoderSweepSummary, title: string): string {
  const pct = (m: MeanStd) => `${(100 * m.mean).toFixed(2)} ± ${(100 * m.std).toFixed(2)}%`;
  const lines = [
    `## ${title}`,
    "",
    "| init | lr | validation | test | minus the probe, validation + test (points) | diverged |",
    "|---|---|---|---|---|---|",
  ];
  for (const g of s.grid) {
    const star = s.optimalLr[g.init] === g.lr ? " (η*)" : "";
    lines.push(
      `| ${g.init} | ${g.lr}${star} | ${pct(g.validation)} | ${pct(g.test)} | ${points(g.heldOutGain)} | ${g.diverged}/${g.validation.n}${g.collapsed ? ` (${g.collapsed} collapsed)` : ""} |`,
    );
  }
  lines.push("");
  for (const [init, lr] of Object.entries(s.optimalLr)) {
    const lrs = s.grid.filter((g) => g.init === init).map((g) => g.lr);
    const edge =
      lrs.length < 2
        ? ""
        : lr === Math.min(...lrs)
          ? "; the grid's smallest rate: the optimum may lie below it"
          : lr === Math.max(...lrs)
            ? "; the grid's largest rate: the optimum may lie above it"
            : "";
    lines.push(
      `- ${init}: η* = ${lr} (on validation${edge}), test accuracy ${pct(s.bestAccuracy[init] as MeanStd)} over ${(s.bestAccuracy[init] as MeanStd).n} seed(s)`,
    );
  }
  lines.push(`- linear probe (frozen encoder): test accuracy ${pct(s.probe)} over ${s.probe.n} seed(s)`);
  for (const [init, g] of Object.entries(s.gainOverProbe)) {
    const se = g.n > 1 ? `standard error ${(100 * standardError(g)).toFixed(2)}; ` : "";
    const verdict = g.clear
      ? "a clear gain: more than two standard errors above 0"
      : "not a clear gain: within two standard errors of 0";
    lines.push(
      `- ${init} at η* minus the probe on the test split, paired by seed: ${points(g)} points (${se}${g.above} of ${g.n} seeds above the probe) — ${verdict}`,
    );
  }
  if (s.paper !== null) for (const v of paperVerdict(s.paper)) lines.push(`- the paper predicts that ${v}`);
  const dyn = s.grid.filter((g) => g.dynamicsAtEnd !== null);
  if (dyn.length > 0) {
    const e = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : "–");
    lines.push(
      "",
      "LoRA dynamics at the end of training (RMS over the measuring batch, mean over the 12 adapted modules and the seeds; δ over the last interval):",
      "",
      "| init | lr | Z_A | Z_B | δ¹ | δ² | δ³ |",
      "|---|---|---|---|---|---|---|",
      ...dyn.map((g) => {
        const d = g.dynamicsAtEnd as NonNullable<GridCell["dynamicsAtEnd"]>;
        return `| ${g.init} | ${g.lr} | ${e(d.rmsZA)} | ${e(d.rmsZB)} | ${e(d.delta1)} | ${e(d.delta2)} | ${e(d.delta3)} |`;
      }),
      "",
    );
  }
  const sp = s.speed;
  lines.push(
    `- speed: training ${sp.trainExamplesPerSecond.toFixed(1)} examples/s, inference ${sp.evalExamplesPerSecond.toFixed(1)} examples/s (medians over runs, one worker each); peak memory ${sp.peakRssMiB.toFixed(0)} MiB per worker`,
  );
  return lines.join("\n") + "\n";
}
