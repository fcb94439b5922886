// Analysis of the language-model width study: the LM finetuning rows of every width, read through the
// toy's width analysis (η* per width and init, the stability edge from RMS(Z_B), slopes with bootstrap
// CIs, η*_A/η*_B against √n, RMS(Z_A) at η*) and, per width, the LM sweep's own summary (η* on
// validation perplexity, best test perplexity per init, paired differences with standard errors).
// Pure functions of the rows.
//
// How an LM run becomes a toy FinalRow: trainLoss = the mean training loss of its last steps (the
// run's own criterion), testLoss = its validation loss after finetuning (so the "test" criterion of
// the toy's analysis is η* on validation loss), RMS(Z_A)/RMS(Z_B) = the last measurement's mean over
// the adapted modules, maxRmsZB = the largest such mean over the run. The measurements become StepRows
// for the report's dynamics figures. Quantities the LM runs do not record (‖A − A₀‖, ‖B − B₀‖, the
// step's update norms) are NaN.
import type { LmRunRow } from "../experiments/lm/rows.ts";
import type { PretrainedWidth, WidthRows } from "../experiments/lm/study.ts";

export type { PretrainedWidth, WidthRows };
import type { FinalRow, Row, StepRow } from "../experiments/toy/rows.ts";
import { analyzeLmSweep, formatLmSweep, type LmSweepSummary } from "./lm-sweep.ts";
import { analyzeSweep, ratioOf } from "./sweep.ts";
import { formatSummary, summaryJson } from "./summary.ts";
import type { AnalysisOptions, SweepAnalysis } from "./types.ts";

export interface LmStudyAnalysis {
  /** The toy's width analysis of the mapped rows. */
  readonly sweep: SweepAnalysis;
  readonly pretrained: readonly PretrainedWidth[];
  /** The LM sweep summary of each width. */
  readonly perWidth: ReadonlyArray<{ readonly width: number; readonly summary: LmSweepSummary }>;
  /** η*_A / η*_B per width with η* chosen on validation loss (the study's criterion), and its exponent. */
  readonly ratio: SweepAnalysis["ratio"];
}

/** A run's rows in the toy's schema: StepRows of its dynamics measurements, then its FinalRow. */
export function toyRowsOf(width: number, r: LmRunRow): Row[] {
  const key = { width, init: r.init, lr: r.lr, seed: r.seed };
  const points = r.dynamics ?? [];
  const steps: StepRow[] = points.map((p) => ({
    ...key,
    kind: "step",
    step: p.step,
    trainLoss: NaN,
    testLoss: NaN,
    rmsZA: p.rmsZA,
    rmsZB: p.rmsZB,
    delta1: p.delta1,
    delta2: p.delta2,
    delta3: p.delta3,
    dA: NaN,
    dB: NaN,
    updA: NaN,
    updB: NaN,
  }));
  const last = points.at(-1);
  const final: FinalRow = {
    ...key,
    kind: "final",
    steps: last?.step ?? 0,
    diverged: r.diverged,
    divergedAt: null,
    initialTrainLoss: r.validationBefore?.loss ?? NaN,
    trainLoss: r.diverged ? Infinity : (r.finalLoss ?? NaN),
    testLoss: r.diverged || r.validation === null ? Infinity : r.validation.loss,
    rmsZA: last?.rmsZA ?? NaN,
    rmsZB: last?.rmsZB ?? NaN,
    // A diverged run counts as unstable at any threshold.
    maxRmsZB: r.diverged ? Infinity : Math.max(...points.map((p) => p.rmsZB), -Infinity),
    dA: NaN,
    dB: NaN,
  };
  return [...steps, final];
}

export function studyRows(widths: readonly WidthRows[]): Row[] {
  return widths.flatMap((w) => w.rows.flatMap((r) => toyRowsOf(w.width, r)));
}

export function analyzeLmStudy(
  widths: readonly WidthRows[],
  pretrained: readonly PretrainedWidth[],
  options: AnalysisOptions = {},
): LmStudyAnalysis {
  const finals = studyRows(widths).filter((r): r is FinalRow => r.kind === "final");
  const sweep = analyzeSweep(finals, options);
  return {
    sweep,
    ratio: ratioOf(sweep.inits, "test"),
    pretrained,
    perWidth: widths.map((w) => ({ width: w.width, summary: analyzeLmSweep(w.rows) })),
  };
}

const fmt = (x: number | null, digits = 2): string => (x === null || !Number.isFinite(x) ? "–" : x.toFixed(digits));

/** The terminal and markdown summary: pretraining, the width analysis, then each width's sweep. */
export function formatLmStudy(a: LmStudyAnalysis): string {
  const lines = [
    "## Pretrained family",
    "",
    "| width | parameters | validation perplexity | unigram baseline |",
    "|---|---|---|---|",
    ...a.pretrained.map(
      (p) => `| ${p.width} | ${(p.parameters / 1e6).toFixed(3)} M | ${fmt(p.perplexity)} | ${fmt(p.unigramPerplexity)} |`,
    ),
    "",
    "## Width analysis (η* test = η* on validation loss after finetuning)",
    "",
    "```",
    formatSummary(a.sweep).trimEnd(),
    "```",
    "",
    ...(a.ratio === null
      ? []
      : [
          `η*_A / η*_B on validation loss: ${a.ratio.rows.map((r) => `n = ${r.width}: ${fmt(r.ratio)}`).join(", ")}; ` +
            `width exponent ${fmt(a.ratio.fit.slope)} [${fmt(a.ratio.fit.ci[0])}, ${fmt(a.ratio.fit.ci[1])}] (theory +0.5)`,
          "",
        ]),
  ];
  for (const w of a.perWidth) lines.push(formatLmSweep(w.summary, `Width ${w.width}`));
  return lines.join("\n");
}

/** The `--json` document: the toy's summary keys, plus the family and each width's LM summary. */
export function lmStudyJson(a: LmStudyAnalysis): Record<string, unknown> {
  return {
    ...summaryJson(a.sweep),
    validationRatio: a.ratio,
    pretrained: a.pretrained,
    perWidth: Object.fromEntries(
      a.perWidth.map((w) => [
        String(w.width),
        {
          optimalLr: w.summary.optimalLr,
          best: w.summary.best,
          differences: w.summary.differences,
          diverged: w.summary.diverged,
          collapsed: w.summary.collapsed,
        },
      ]),
    ),
  };
}
