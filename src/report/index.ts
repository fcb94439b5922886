// The report room: figures and pages as pure functions of sweep rows, the analysis and the
// coord-check result (never the engine). writeReport is the only function here that touches disk.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatSummary, type SweepAnalysis } from "../analysis/index.ts";
import type { CoordCheckResult } from "../experiments/coordcheck.ts";
import type { Row } from "../experiments/toy/rows.ts";
import { coordCheckTableHtml, renderHtml, renderMarkdown, type Figure } from "./page.ts";
import { placeholderSvg, renderSvg, type Spec } from "./render.ts";
import {
  coordCheckSpec,
  deltasSpec,
  featuresSpec,
  lossVsLrSpec,
  lrVsWidthSpec,
  stepSeries,
  TRAIN_LOSS,
  transferSpec,
  type Criterion,
} from "./specs.ts";

export interface ReportInput {
  readonly rows: readonly Row[];
  readonly analysis: SweepAnalysis;
  readonly coordCheck?: CoordCheckResult;
  /** The sweep spec, embedded verbatim (as JSON) in the page. */
  readonly spec?: unknown;
  readonly title?: string;
  /** The page's summary text in place of the toy analysis's table (a study with more to say). */
  readonly summaryText?: string;
  /** The loss that chooses η* in the figures (default: train loss). */
  readonly criterion?: Criterion;
}

/** Paths of what was written. */
export interface ReportFiles {
  readonly html: string;
  readonly svgs: string[];
  readonly markdown: string;
}

async function svgOr(spec: Spec | null, missing: string): Promise<string> {
  return spec === null ? placeholderSvg(missing) : renderSvg(spec);
}

function theoryText(a: SweepAnalysis, by: Criterion): string {
  return a.inits
    .map((i) => `${i.init}: η* slope ${i[by.key].fit.slope.toFixed(2)} (theory ${i[by.key].fit.theory ?? "—"})`)
    .join("; ");
}

/** Build every figure (SVG strings) with ids fig-a … fig-f and captions. */
export async function buildFigures(input: ReportInput): Promise<Figure[]> {
  const a = input.analysis;
  const by = input.criterion ?? TRAIN_LOSS;
  const steps = stepSeries(input.rows, a, by);
  const thr = a.options.edgeThreshold;
  return [
    {
      id: "fig-a",
      title: `(a) Final ${by.label} vs learning rate`,
      caption: `Seed geometric mean of the final ${by.label} against lr, one line per width and one panel per init; diverged runs are left out.`,
      svg: await svgOr(lossVsLrSpec(a, by), "no finite losses in the sweep"),
    },
    {
      id: "fig-b",
      title: "(b) η* and the stability edge vs width",
      caption:
        `Loss-optimal η* (${by.label}, parabola-refined) and the stability edge (largest lr with max RMS(Z_B) ≤ ${thr}) against width on log–log axes, ` +
        `with their OLS fits and grey guide lines ∝ n^-1/2 and ∝ n^-1. ${theoryText(a, by)}.`,
      svg: await svgOr(lrVsWidthSpec(a, by), "no η* could be located"),
    },
    {
      id: "fig-c",
      title: "(c) RMS Z_A and Z_B during training",
      caption:
        "RMS of Z_A = A·z and Z_B = B·A·z over the measured inputs (the toy's train points; a language model's measuring batch, mean over the adapted modules), at the smallest and the largest width, each at the grid lr nearest its own η*; mean over seeds.",
      svg: await svgOr(featuresSpec(steps), "no step rows at η* in the sweep"),
    },
    {
      id: "fig-d",
      title: "(d) δ¹ / δ² / δ³ decomposition of ΔZ_B",
      caption:
        "RMS of the three terms of one step's change of Z_B (Hayou, Ghosh & Yu 2024): δ¹ from A's update, δ² from B's update, δ³ the cross term; same runs as (c).",
      svg: await svgOr(deltasSpec(steps), "no step rows at η* in the sweep"),
    },
    {
      id: "fig-e",
      title: "(e) Coordinate check of the width exponents",
      caption:
        input.coordCheck === undefined
          ? "The coord-check was not run for this report (lorascope coord-check)."
          : `Measured log–log slopes of RMS(Z_A), RMS(Z_B), RMS(B−B₀) against width (single LoRA layer, SignSGD) vs the theoretical exponents; the band is ±${input.coordCheck.tolerance}.`,
      svg:
        input.coordCheck === undefined
          ? placeholderSvg("coord-check not run")
          : await renderSvg(coordCheckSpec(input.coordCheck)),
      ...(input.coordCheck === undefined ? {} : { extraHtml: coordCheckTableHtml(input.coordCheck) }),
    },
    {
      id: "fig-f",
      title: "(f) Learning-rate transfer",
      caption:
        "η* at the larger half of widths predicted by a power law fitted on the smaller half, against the measured η*; the dashed line is a perfect prediction.",
      svg: await svgOr(transferSpec(a, by), "too few widths to test transfer (needs ≥ 3)"),
    },
  ];
}

/**
 * Write `index.html` (self-contained), `figures/fig-*.svg` and `summary.md` under `outDir`;
 * returns their paths.
 */
export async function writeReport(outDir: string, input: ReportInput): Promise<ReportFiles> {
  const title = input.title ?? "lorascope: learning rate vs width under init-a and init-b";
  const figures = await buildFigures(input);
  const summary = input.summaryText ?? formatSummary(input.analysis);
  await mkdir(join(outDir, "figures"), { recursive: true });
  const svgs: string[] = [];
  for (const f of figures) {
    const p = join(outDir, "figures", `${f.id}.svg`);
    await writeFile(p, f.svg);
    svgs.push(p);
  }
  const html = join(outDir, "index.html");
  await writeFile(html, renderHtml(title, summary, figures, input.spec));
  const markdown = join(outDir, "summary.md");
  await writeFile(markdown, renderMarkdown(title, summary, figures, input.coordCheck));
  return { html, svgs, markdown };
}

export type { Figure } from "./page.ts";
export type { Criterion } from "./specs.ts";
