// The language-model sections of docs/RESULTS.md, analysed from rows committed under docs/sweeps/:
//
//   lm-study/                     `npx lorascope reproduce --study lm --out lm-study`, less the model
//                                 weights and token caches: study.json, models/w<n>/pretrain.json,
//                                 sweeps/w<n>/sweep.json and sweeps/w<n>/runs/*.json
//   stories260K-brown-learned/    the `lorascope sweep` of stories260K printed in its section
//
// Used by scripts/results.ts (which also copies the figures to docs/figures/lm-*.svg); alone,
// `node --import tsx scripts/lm-results.ts` prints the sections.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { analyzeLmStudy, formatLmStudy, studyRows, type LmStudyAnalysis } from "../src/analysis/lm-study.ts";
import { analyzeLmSweep, formatLmSweep, type LmSweepSummary } from "../src/analysis/lm-sweep.ts";
import type { ExponentFit, InitAnalysis } from "../src/analysis/types.ts";
import { PRETRAIN_FILE, type PretrainResult } from "../src/experiments/lm/pretrain.ts";
import { readLmRows, type LmSweepSpec } from "../src/experiments/lm/sweep.ts";
import { STUDY_FILE, SWEEPS_DIR, type PretrainedWidth, type StudyRecord, type WidthRows } from "../src/experiments/lm/study.ts";
import { MODELS_DIR } from "../src/experiments/lm/family.ts";
import { lmStudySpec } from "../src/experiments/lm/study-spec.ts";
import { writeReport } from "../src/report/index.ts";
import { SWEEP_FILE } from "../src/experiments/grid-sweep.ts";
import { escapeMarkdown } from "./markdown.ts";

export const LM_STUDY_ROWS = "docs/sweeps/lm-study";
export const STORIES_ROWS = "docs/sweeps/stories260K-brown-learned";
/** The figures of the width study, as docs/figures/lm-<id>.svg (the coord-check, fig-e, is the toy's). */
const FIGURES = ["fig-a", "fig-b", "fig-c", "fig-d", "fig-f"] as const;

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, "utf8")) as T;
const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toPrecision(d) : String(x));
const ci = (fit: ExponentFit): string => `${f(fit.slope)} [${f(fit.ci[0])}, ${f(fit.ci[1])}]`;
const yes = (b: boolean): string => (b ? "**yes**" : "**no**");
/** A "grows with width" claim: yes when the whole CI is above 0, no when the slope is not positive. */
const grows = (fit: ExponentFit): string =>
  fit.ci[0] > 0 ? "**yes**" : fit.slope <= 0 ? "**no**" : "**not resolved** (the CI includes 0)";

interface LoadedStudy {
  readonly record: StudyRecord;
  readonly widths: WidthRows[];
  readonly pretrained: PretrainedWidth[];
  readonly pretrain: PretrainResult[];
}

function loadStudy(dir: string): LoadedStudy | null {
  if (!fs.existsSync(path.join(dir, STUDY_FILE))) return null;
  const record = readJson<StudyRecord>(path.join(dir, STUDY_FILE));
  const pretrain = record.spec.widths.map((w) => readJson<PretrainResult>(path.join(dir, MODELS_DIR, `w${w}`, PRETRAIN_FILE)));
  const widths = record.spec.widths.map((width) => {
    const sweepDir = path.join(dir, SWEEPS_DIR, `w${width}`);
    return { width, rows: readLmRows(sweepDir, readJson<LmSweepSpec>(path.join(sweepDir, SWEEP_FILE))) };
  });
  const pretrained = pretrain.map((p) => ({
    width: p.spec.width,
    parameters: p.parameters,
    perplexity: p.validation.final?.perplexity ?? null,
    unigramPerplexity: p.validation.unigram.perplexity,
  }));
  return { record, widths, pretrained, pretrain };
}

function initOf(a: LmStudyAnalysis, name: string): InitAnalysis {
  const i = a.sweep.inits.find((x) => x.init === name);
  if (i === undefined) throw new Error(`no ${name} in the study`);
  return i;
}

/** The expected-vs-measured table of the width study (η* on validation loss throughout). */
function expectations(a: LmStudyAnalysis, s: LoadedStudy): string {
  const A = initOf(a, "init-a");
  const B = initOf(a, "init-b");
  const ratios = a.ratio?.rows ?? [];
  const best = a.perWidth.map((w) => ({ width: w.width, d: w.summary.differences[0]?.test, s: w.summary }));
  const widest = s.pretrained[s.pretrained.length - 1];
  const within = (x: number, t: number, tol: number): boolean => Math.abs(x - t) <= tol;
  const zA = A.test.rmsZAFit;
  const edgeRatios = A.edge.cells.flatMap((ca) => {
    const cb = B.edge.cells.find((c) => c.width === ca.width);
    return ca.lr === null || cb?.lr === null || cb === undefined ? [] : [{ width: ca.width, ratio: ca.lr / cb.lr }];
  });
  const rows = [
    [
      `the widest model (n = ${widest?.width}) has learned language: validation perplexity well below the unigram baseline's`,
      `${f(widest?.perplexity ?? NaN)} vs ${f(widest?.unigramPerplexity ?? NaN)}`,
      yes((widest?.perplexity ?? Infinity) < 0.7 * (widest?.unigramPerplexity ?? 0)),
    ],
    [
      "η\\*_A > η\\*_B at every width",
      ratios.map((r) => `${r.width}: ${f(r.ratio)}`).join(", "),
      yes(ratios.length > 0 && ratios.every((r) => r.ratio > 1)),
    ],
    [
      "best test perplexity under `init-a` ≤ `init-b` (paired by seed, A − B ± SE)",
      best.map((b) => `${b.width}: ${b.d === undefined ? "–" : `${f(b.d.mean)} ± ${f(b.d.se, 2)}`}`).join(", "),
      yes(best.every((b) => b.d !== undefined && b.d.mean <= 0)) +
        (best.some((b) => b.d !== undefined && Math.abs(b.d.mean) <= 2 * b.d.se) ? " (within 2 SE at some widths)" : ""),
    ],
    ["stability-edge slope of `init-a` near −0.5 (±0.2)", ci(A.edge.fit), yes(within(A.edge.fit.slope, -0.5, 0.2))],
    ["stability-edge slope of `init-b` near −1 (±0.2)", ci(B.edge.fit), yes(within(B.edge.fit.slope, -1, 0.2))],
    [
      "stability edge of `init-a` above `init-b`'s at every width (edge_A / edge_B)",
      edgeRatios.map((r) => `${r.width}: ${f(r.ratio)}`).join(", "),
      yes(edgeRatios.length > 0 && edgeRatios.every((r) => r.ratio > 1)),
    ],
    [
      "`init-b`'s edge falls faster with width than `init-a`'s (slope difference, theory −0.5)",
      `${f(B.edge.fit.slope - A.edge.fit.slope)} (CIs ${B.edge.fit.ci[1] < A.edge.fit.ci[0] ? "do not overlap" : "overlap"})`,
      yes(B.edge.fit.ci[1] < A.edge.fit.ci[0]),
    ],
    ["η\\* slope of `init-a` near −0.5 (±0.2)", ci(A.test.fit), yes(within(A.test.fit.slope, -0.5, 0.2))],
    ["η\\* slope of `init-b` near −1 (±0.2)", ci(B.test.fit), yes(within(B.test.fit.slope, -1, 0.2))],
    [
      "η\\*_A / η\\*_B grows with width (theory +0.5)",
      a.ratio === null ? "n/a" : ci(a.ratio.fit),
      a.ratio === null ? "n/a" : grows(a.ratio.fit),
    ],
    ["RMS(Z_A) at η\\*_A grows with width (theory +0.5)", ci(zA), grows(zA)],
  ];
  return [
    "| expectation | measured | holds? |",
    "|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/**
 * Why η* may not separate the inits: where each init's best grid rate sits relative to the "cliff",
 * the first grid rate whose mean validation perplexity is more than twice the base model's.
 */
function cliffs(a: LmStudyAnalysis, s: LoadedStudy): string {
  const lines = s.widths.map((w) => {
    const summary = a.perWidth.find((p) => p.width === w.width)?.summary;
    const base = w.rows.find((r) => r.validationBefore != null)?.validationBefore?.perplexity ?? NaN;
    const per = ["init-a", "init-b"].map((init) => {
      const cells = (summary?.grid ?? []).filter((c) => c.init === init).sort((x, y) => x.lr - y.lr);
      const cliff = cells.find((c) => !(c.validation.mean <= 2 * base));
      return `${init} best ${f(summary?.optimalLr[init] ?? NaN)}, cliff ${cliff === undefined ? "none" : f(cliff.lr)}`;
    });
    return `| ${w.width} | ${f(base)} | ${per.join(" | ")} |`;
  });
  return ["| width | base validation perplexity | init-a | init-b |", "|---|---|---|---|", ...lines].join("\n");
}

/** What the width study gives where it disagrees with the theory, and the likely reason (read from the rows). */
function why(a: LmStudyAnalysis, steps: number): string {
  const same = a.perWidth.filter((w) => w.summary.optimalLr["init-a"] === w.summary.optimalLr["init-b"]).length;
  const A = initOf(a, "init-a");
  const B = initOf(a, "init-b");
  const deltas = a.perWidth.map((w) => {
    const [da, db] = [w.summary.deltaShares["init-a"], w.summary.deltaShares["init-b"]];
    return `${w.width}: ${da === undefined ? "–" : f(da.delta2, 2)} vs ${db === undefined ? "–" : f(db.delta2, 2)}`;
  });
  return `**What it gives and why.** The two inits' best grid rates coincide at ${same} of ${a.perWidth.length} widths, and
below the same cliff: with ${steps} AdamW steps both inits do best near the largest rate that does not blow the
adapter up, so the loss-optimal η\\* follows the cliff, which this grid (a factor 2.2 between points) places no
more finely than the table shows. The stability edge, interpolated between grid points from RMS(Z_B), does
separate the inits the way the theory says — \`init-a\`'s edge lies above \`init-b\`'s and falls more slowly
with width (slopes ${f(A.edge.fit.slope)} and ${f(B.edge.fit.slope)}) — though both fall more slowly than the theory's
−1/2 and −1 over this factor-${f(Math.max(...A.widths) / Math.min(...A.widths), 2)} range of widths; the loss-optimal η\\* does not follow
the edge's separation, so η\\*\\_A / η\\*\\_B stays near 1. Init[B]'s undertrained B shows at every width: B's share
of the change of Z_B (δ² of δ¹ + δ² + δ³ at η\\*, \`init-a\` vs \`init-b\`) is ${deltas.join(", ")}. Not tried here,
each a new study's worth of machine time: more finetuning steps (a longer run can profit from a rate below
the cliff, where the inits differ), a finer grid between the best rate and the cliff, and wider models.`;
}

/** Where each init's η* sits in the grid: an optimum at the grid's end is a bound, not a measurement. */
function edges(a: LmStudyAnalysis): string {
  const at = a.sweep.inits.flatMap((i) => i.test.cells.filter((c) => c.atEdge).map((c) => `${i.init} at n = ${c.width}`));
  return at.length === 0
    ? "Every η\\* is interior to the learning-rate grid (the best grid point has a neighbour on each side)."
    : `η\\* sits at an end of the grid for ${at.join(", ")}: there it is a bound, not a measurement.`;
}

/** The width study's section, and the report written into `reportDir` (its SVGs become docs/figures/lm-*). */
async function studySection(root: string, reportDir: string): Promise<{ text: string; svgs: string[] }> {
  const s = loadStudy(path.join(root, LM_STUDY_ROWS));
  if (s === null) return { text: `Not run yet: no \`${LM_STUDY_ROWS}/${STUDY_FILE}\`.\n`, svgs: [] };
  const a = analyzeLmStudy(s.widths, s.pretrained);
  const files = await writeReport(reportDir, {
    rows: studyRows(s.widths),
    analysis: a.sweep,
    spec: s.record.spec,
    title: "lorascope: LoRA learning rate vs width on language models pretrained here",
    summaryText: formatLmStudy(a),
    criterion: { key: "test", label: "validation loss" },
  });
  const sp = s.record.spec;
  const isDefault = JSON.stringify(lmStudySpec()) === JSON.stringify(sp);
  const runs = s.widths.reduce((n, w) => n + w.rows.length, 0);
  const total = sp.widths.length * sp.lrs.length * sp.inits.length * sp.seeds;
  const p0 = s.pretrain[0];
  const wall = s.record.fresh
    ? `${(s.record.seconds / 60).toFixed(1)} min for the whole study (pretraining included), one fresh call, finished ${s.record.finishedAt.slice(0, 10)}`
    : "not recorded: the last call reused finished work";
  const figure = (id: string, caption: string): string => `${caption}\n\n![${id}](figures/lm-${id}.svg)`;
  const text = `\`\`\`sh
npx lorascope reproduce --study lm --out lm-study${isDefault ? "" : "   # with the settings in study.json"}
\`\`\`

${runs} of ${total} finetuning runs on disk${runs < total ? " (INCOMPLETE)" : ""}. Wall time: ${wall}.

**Family.** Llama-architecture decoders of widths ${sp.widths.join(", ")}, ${sp.layers} layers, heads of ${sp.headDim}
features (the head count grows with the width), MLP 8/3 of the width, tied embedding, stories260K's 512-piece
tokenizer, ${sp.seqLen}-token sequences; each pretrained from scratch on the same ${p0?.train.description ?? sp.pretrainData} tokens
(${sp.pretrainSteps} AdamW steps × ${sp.pretrainBatch} sequences, peak lr ${sp.pretrainLr}, warmup then cosine decay, seed 0).
**Finetuning.** Each width LoRA-finetuned on ${sp.finetuneData} (academic prose of 1961, split by document; not in
the pretraining text): q_proj and v_proj of every layer, r = ${sp.rank}, α = r, AdamW, ${sp.steps} steps × ${sp.batch} sequences,
${sp.lrs.length} learning rates ${f(sp.lrs[0] ?? NaN)} … ${f(sp.lrs[sp.lrs.length - 1] ?? NaN)} (log-spaced), ${sp.inits.join(" and ")}, seeds 0…${sp.seeds - 1}; the
same data order for every run of a seed. η\\* of an (init, width) is chosen on **validation loss** after finetuning
(parabola-refined in log lr); the stability edge is the largest lr whose RMS(Z_B), measured every ${sp.dynamicsEvery} steps and
averaged over the adapted modules, stays ≤ ${a.sweep.options.edgeThreshold}; test perplexity is reported at η\\*.

### What we expected and what we got

${expectations(a, s)}

${edges(a)} The analysis is the toy study's, applied to the stored rows unchanged; nothing was tuned toward
the expected numbers.

**Where η\\* lands.** Each init's best grid learning rate (lowest mean validation perplexity) beside its
"cliff", the first grid rate whose mean validation perplexity is more than twice the base model's:

${cliffs(a, s)}

${why(a, sp.steps)}

### Tables

${escapeMarkdown(formatLmStudy(a)).replace(/^## /gm, "#### ")}

### Figures

${figure("fig-a", "(a) validation loss after finetuning against the learning rate, per width and init")}

${figure("fig-b", "(b) η\\* (validation loss) and the stability edge against width, with fits and n^-1/2, n^-1 guides")}

${figure("fig-c", "(c) RMS Z_A and Z_B during finetuning, smallest and largest width, each at its own η\\*")}

${figure("fig-d", "(d) δ¹/δ²/δ³ of the change of Z_B, same runs")}

${figure("fig-f", "(f) η\\* at the wider half of the widths predicted from the narrower half")}
`;
  return { text, svgs: files.svgs.filter((p) => (FIGURES as readonly string[]).includes(path.basename(p, ".svg"))) };
}

/** The stories260K sweep's section. */
function storiesSection(root: string): string {
  const dir = path.join(root, STORIES_ROWS);
  const specFile = path.join(dir, SWEEP_FILE);
  if (!fs.existsSync(specFile)) return `Not run yet: no \`${STORIES_ROWS}/${SWEEP_FILE}\`.\n`;
  const s = readJson<LmSweepSpec>(specFile);
  const rows = readLmRows(dir, s);
  const total = s.lrs.length * s.inits.length * s.seeds;
  const summary: LmSweepSummary = analyzeLmSweep(rows);
  const cmd =
    `npx lorascope sweep --model ${s.model} --data ${s.data} --lrs ${s.lrs.join(",")} --inits ${s.inits.join(",")} ` +
    `--seeds ${s.seeds} --steps ${s.steps} --batch ${s.batch} --seq-len ${s.seqLen} --rank ${s.r} --alpha ${s.loraAlpha} ` +
    `--eval-limit ${s.evalLimit} --dynamics-every ${s.dynamicsEvery} --out ${STORIES_ROWS}`;
  return `\`\`\`sh
${cmd}
\`\`\`

${rows.length} of ${total} runs on disk${rows.length < total ? " (INCOMPLETE: rerun the command to finish)" : ""}: the width study's
finetuning protocol (same text, grid, steps, rank and evaluation) applied to the real pretrained stories260K
(TinyStories, width 64, 5 layers), which has never seen academic prose. η\\* is chosen on validation
perplexity; the paired differences and the paper's predictions are scored on the test split.

${escapeMarkdown(formatLmSweep(summary, `stories260K on ${s.data}: ${s.inits.join(" vs ")}, ${s.seeds} seeds`)).replace(/^## /, "#### ")}`;
}

/** The RESULTS.md sections on language models, with the width study's figures written to `figDir`. */
export async function lmResults(root: string, figDir: string): Promise<string> {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-lm-report-"));
  try {
    const study = await studySection(root, reportDir);
    for (const svg of study.svgs) fs.copyFileSync(svg, path.join(figDir, `lm-${path.basename(svg)}`));
    return `## Language models pretrained here: the width study

The paper's width claims on language models, with everything but the width held fixed: a family of
decoders pretrained here on the same tokens, then LoRA-finetuned on text none of them saw. The rows of
every run and each width's \`pretrain.json\` are committed in \`${LM_STUDY_ROWS}/\` (the study's output folder
without the model weights and token caches).

${study.text}
## A real pretrained language model: stories260K on unseen text

${storiesSection(root)}`;
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(import.meta.dirname, "..");
  process.stdout.write(await lmResults(root, fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-lm-figures-"))));
}
