// Analysis of a USE-lite finetuning sweep (learning rate × adapter init × seed): pure functions of
// the run rows, no engine. η* of an init is the learning rate with the best validation accuracy
// averaged over seeds (test accuracy never chooses anything); the init's accuracy is the test
// accuracy at that η*, as mean and sample standard deviation over seeds. The frozen-encoder linear
// probe is the baseline, summarised the same way.
import type { UseRunRow } from "../experiments/rows.ts";

export type { UseRunRow };

/** One finished finetune, as the sweep stores it (OUT/runs/<id>.json). */

export interface MeanStd {
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for a single seed. */
  readonly std: number;
  readonly n: number;
}

export interface UseSweepSummary {
  /** η* per init, chosen on mean validation accuracy (ties: the smaller lr). */
  readonly optimalLr: Record<string, number>;
  /** Test accuracy at η* over seeds, per init. */
  readonly bestAccuracy: Record<string, MeanStd>;
  /** Linear-probe test accuracy over seeds (one value per seed). */
  readonly probe: MeanStd;
  /** Mean validation and test accuracy per init and lr, for the table. */
  readonly grid: ReadonlyArray<{ readonly init: string; readonly lr: number; readonly validation: MeanStd; readonly test: MeanStd; readonly diverged: number }>;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** A diverged run counts as accuracy 0, so it never wins η*. */
const valAcc = (r: UseRunRow): number => (r.diverged || !Number.isFinite(r.validation.accuracy) ? 0 : r.validation.accuracy);
const testAcc = (r: UseRunRow): number => (r.diverged || !Number.isFinite(r.test.accuracy) ? 0 : r.test.accuracy);

export function analyzeUseSweep(rows: readonly UseRunRow[]): UseSweepSummary {
  const inits = [...new Set(rows.map((r) => r.init))].sort();
  const grid: Array<UseSweepSummary["grid"][number]> = [];
  const optimalLr: Record<string, number> = {};
  const bestAccuracy: Record<string, MeanStd> = {};
  for (const init of inits) {
    const mine = rows.filter((r) => r.init === init);
    const lrs = [...new Set(mine.map((r) => r.lr))].sort((a, b) => a - b);
    let best: { lr: number; val: number } | undefined;
    for (const lr of lrs) {
      const at = mine.filter((r) => r.lr === lr);
      const validation = meanStd(at.map(valAcc));
      grid.push({ init, lr, validation, test: meanStd(at.map(testAcc)), diverged: at.filter((r) => r.diverged).length });
      if (best === undefined || validation.mean > best.val) best = { lr, val: validation.mean };
    }
    if (best === undefined) continue;
    optimalLr[init] = best.lr;
    bestAccuracy[init] = meanStd(mine.filter((r) => r.lr === best.lr).map(testAcc));
  }
  // The probe depends only on the seed's data: one value per seed.
  const probeBySeed = new Map(rows.map((r) => [r.seed, r.probe.test.accuracy]));
  return { optimalLr, bestAccuracy, probe: meanStd([...probeBySeed.values()]), grid };
}

/** The `--json` line: η* and accuracy (mean, std) per init, and the probe. */
export function useSweepJson(s: UseSweepSummary): string {
  const ms = (m: MeanStd) => ({ mean: m.mean, std: m.std });
  return JSON.stringify({
    optimalLr: s.optimalLr,
    bestAccuracy: Object.fromEntries(Object.entries(s.bestAccuracy).map(([k, v]) => [k, ms(v)])),
    probe: ms(s.probe),
  });
}

/** A short markdown summary (also readable in a terminal). */
export function formatUseSweep(s: UseSweepSummary, title: string): string {
  const pct = (m: MeanStd) => `${(100 * m.mean).toFixed(2)} ± ${(100 * m.std).toFixed(2)}%`;
  const lines = [`## ${title}`, "", "| init | lr | validation | test | diverged |", "|---|---|---|---|---|"];
  for (const g of s.grid) {
    const star = s.optimalLr[g.init] === g.lr ? " (η*)" : "";
    lines.push(`| ${g.init} | ${g.lr}${star} | ${pct(g.validation)} | ${pct(g.test)} | ${g.diverged}/${g.validation.n} |`);
  }
  lines.push("");
  for (const [init, lr] of Object.entries(s.optimalLr)) {
    lines.push(`- ${init}: η* = ${lr} (on validation), test accuracy ${pct(s.bestAccuracy[init] as MeanStd)} over ${(s.bestAccuracy[init] as MeanStd).n} seed(s)`);
  }
  lines.push(`- linear probe (frozen encoder): test accuracy ${pct(s.probe)} over ${s.probe.n} seed(s)`);
  return lines.join("\n") + "\n";
}
