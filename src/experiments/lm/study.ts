// The language-model width study (`lorascope reproduce --study lm`): pretrain (or reuse) the family of
// widths (family.ts), then for each width the LM finetuning sweep over learning rate × init × seed on
// the held-out domain (sweep.ts: the grid engine, resumable, one row per run), then the analysis across
// widths (analysis/lm-study.ts). OUT/models/w<n> holds the base models, OUT/sweeps/w<n> each width's
// rows; a rerun skips every finished model and run. The analysis across widths is analysis/lm-study.ts.
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic.ts";
import type { GridSweepOptions } from "../grid-sweep.ts";
import type { LmRunRow } from "./rows.ts";
import { ensureFamily, type FamilyMember } from "./family.ts";
import { runLmSweep, type LmSweepSpec } from "./sweep.ts";
import type { LmStudySpec } from "./study-spec.ts";

export const SWEEPS_DIR = "sweeps";
/** OUT/study.json: the study's settings and what its last call did (how long, what it reused). */
export const STUDY_FILE = "study.json";

/** The contents of OUT/study.json. */
export interface StudyRecord {
  readonly spec: LmStudySpec;
  /** Wall time of the last call, pretraining included. */
  readonly seconds: number;
  /** The last call pretrained every width and ran every finetune (its seconds are a whole study's). */
  readonly fresh: boolean;
  readonly widthsPretrained: readonly number[];
  readonly runsTotal: number;
  readonly runsSkipped: number;
  readonly finishedAt: string;
}

export const widthSweepDir = (outDir: string, width: number): string => path.join(outDir, SWEEPS_DIR, `w${width}`);

/** The finetuning sweep of one width: the same for every width but the base model. */
export function widthSweepSpec(study: LmStudySpec, model: string): LmSweepSpec {
  return {
    model,
    data: study.finetuneData,
    ...(study.finetuneValid === undefined ? {} : { valid: study.finetuneValid }),
    lrs: study.lrs,
    inits: study.inits,
    seeds: study.seeds,
    steps: study.steps,
    batch: study.batch,
    seqLen: study.seqLen,
    r: study.rank,
    // α = r: scaling 1 at every rank, as in the toy study.
    loraAlpha: study.rank,
    evalLimit: study.evalLimit,
    dynamicsEvery: study.dynamicsEvery,
  };
}

/** The finetuning rows of one width. */
export interface WidthRows {
  readonly width: number;
  readonly rows: readonly LmRunRow[];
}

/** What the study knows of one pretrained width. */
export interface PretrainedWidth {
  readonly width: number;
  readonly parameters: number;
  /** Validation perplexity after pretraining (null when it diverged). */
  readonly perplexity: number | null;
  /** The unigram baseline's perplexity on the same held-out tokens. */
  readonly unigramPerplexity: number;
}

export interface LmStudyResult {
  readonly members: readonly FamilyMember[];
  readonly pretrained: readonly PretrainedWidth[];
  readonly widths: readonly WidthRows[];
  readonly runsTotal: number;
  readonly runsSkipped: number;
  readonly seconds: number;
}

export interface LmStudyOptions extends Omit<GridSweepOptions, "onRun"> {
  /** Finetuning runs finished (skipped ones included) of the whole study. */
  readonly onRun?: (done: number, total: number) => void;
  /** The width being pretrained now (undefined once the family is ready). */
  readonly onPretraining?: (width: number | undefined) => void;
}

export async function runLmStudy(
  study: LmStudySpec,
  outDir: string,
  opts: LmStudyOptions = {},
): Promise<LmStudyResult> {
  const t0 = performance.now();
  const progress = opts.progress ?? (() => {});
  const members = await ensureFamily(study, outDir, progress, opts.onPretraining);
  opts.onPretraining?.(undefined);
  const perWidth = study.lrs.length * study.inits.length * study.seeds;
  const total = perWidth * members.length;
  const widths: WidthRows[] = [];
  let runsSkipped = 0;
  for (const [k, m] of members.entries()) {
    progress(`finetuning width ${m.width}: ${perWidth} runs into ${widthSweepDir(outDir, m.width)}`);
    const r = await runLmSweep(widthSweepSpec(study, m.dir), widthSweepDir(outDir, m.width), {
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
      progress,
      onRun: (done) => opts.onRun?.(k * perWidth + done, total),
    });
    runsSkipped += r.runsSkipped;
    widths.push({ width: m.width, rows: r.rows });
  }
  const pretrained: PretrainedWidth[] = members.map((m) => ({
    width: m.width,
    parameters: m.result.parameters,
    perplexity: m.result.validation.final?.perplexity ?? null,
    unigramPerplexity: m.result.validation.unigram.perplexity,
  }));
  const seconds = (performance.now() - t0) / 1000;
  const widthsPretrained = members.filter((m) => m.trained).map((m) => m.width);
  const record: StudyRecord = {
    spec: study,
    seconds,
    fresh: runsSkipped === 0 && widthsPretrained.length === members.length,
    widthsPretrained,
    runsTotal: total,
    runsSkipped,
    finishedAt: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(outDir, STUDY_FILE), JSON.stringify(record, null, 2) + "\n");
  return { members, widths, pretrained, runsTotal: total, runsSkipped, seconds };
}
