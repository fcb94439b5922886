// The language-model finetuning sweep: learning rate × adapter init × seed, one `runLmFinetune` per
// cell (the same code path as `lorascope finetune --model …`), on the grid engine every study shares
// (../grid-sweep.ts: pool, resume, settings check, one atomically written row per run). Before the
// pool starts, the training and held-out texts are tokenized once into OUT/token-cache
// (data/lm-token-cache.ts), so every run reads token ids instead of tokenizing again.
import path from "node:path";
import type { InitScheme } from "../../lora/config.ts";
import { canonicalSettings, writeRowFile } from "../store.ts";
import {
  readGridRows,
  runGridSweep,
  sweepDirOf,
  type GridJob,
  type GridStudy,
  type GridSweepOptions,
  type GridSweepResult,
} from "../grid-sweep.ts";
import { siblingModule } from "../worker-pool.ts";
import { meanOverModules } from "../dynamics.ts";
import type { LmHeldOutRow, LmRunRow } from "./rows.ts";
import { lmSpec, type LmFinetuneSpec } from "./spec.ts";

/** Every finetune option but the grid's axes (init, lr, seed); absent fields take LM_DEFAULTS. */
export type LmSweepRunOptions = Partial<Omit<LmFinetuneSpec, "init" | "lr" | "seed" | "model" | "data">> &
  Pick<LmFinetuneSpec, "model" | "data">;

export interface LmSweepSpec extends LmSweepRunOptions {
  readonly lrs: readonly number[];
  readonly inits: readonly InitScheme[];
  /** Seeds 0 … seeds − 1. */
  readonly seeds: number;
}

/** One cell of the grid, as sent to a worker. */
export type LmSweepJob = GridJob<LmFinetuneSpec>;

/** Where a sweep keeps the token ids of its texts (OUT/token-cache). */
export const TOKEN_CACHE_DIR = "token-cache";

/** The options every cell shares, from the sweep. */
function runOptions(s: LmSweepSpec): LmSweepRunOptions {
  const { lrs: _lrs, inits: _inits, seeds: _seeds, ...options } = s;
  return options;
}

/** The grid's finetune specs, seed-major; each is validated (lmSpec), so a bad sweep writes nothing. */
export function lmSweepRuns(s: LmSweepSpec): LmFinetuneSpec[] {
  const out: LmFinetuneSpec[] = [];
  for (let seed = 0; seed < s.seeds; seed++) {
    for (const init of s.inits) for (const lr of s.lrs) out.push(lmSpec({ ...runOptions(s), init, lr, seed }));
  }
  return out;
}

/**
 * Everything but the grid's axes, defaults filled in: a rerun may widen the grid but not change how
 * a cell trains, and a sweep that spells out a default matches one that leaves it out.
 */
function settings(s: LmSweepSpec): string {
  const { init: _init, lr: _lr, seed: _seed, ...filled } = anyCell(s);
  return canonicalSettings(filled);
}

/** A cell's spec with placeholder axes: what every cell shares, defaults filled in. */
const anyCell = (s: LmSweepSpec): LmFinetuneSpec => lmSpec({ ...runOptions(s), init: "init-a", lr: 1, seed: 0 });

/** The LM study on the grid engine. */
const STUDY: GridStudy<LmFinetuneSpec, LmSweepSpec> = {
  cells: lmSweepRuns,
  settings,
  worker: siblingModule("worker", import.meta.url),
  runJob: (job) => runLmSweepJob(job),
  // Tokenize once, in this process, before any run: every run then reads the cached ids.
  async prepare(sweep, outDir, progress) {
    const { pretokenize } = await import("./tokens.ts");
    await pretokenize(anyCell(sweep), path.join(outDir, TOKEN_CACHE_DIR), progress);
  },
};

/** The rows of this grid found in OUT/runs (temp files and other grids' rows are ignored). */
export function readLmRows(outDir: string, s: LmSweepSpec): LmRunRow[] {
  return readGridRows<LmRunRow, LmFinetuneSpec, LmSweepSpec>(outDir, STUDY, s);
}

export type LmSweepResult = GridSweepResult<LmRunRow>;

/** Run (or finish) the sweep into `outDir`. `workers` 0 runs in this process (tests, debugging). */
export function runLmSweep(s: LmSweepSpec, outDir: string, opts: GridSweepOptions = {}): Promise<LmSweepResult> {
  return runGridSweep<LmRunRow, LmFinetuneSpec, LmSweepSpec>(STUDY, s, outDir, opts);
}

/** The row fields of a held-out loss. */
const heldOut = (l: { loss: number; perplexity: number } | null | undefined): LmHeldOutRow | null =>
  l === null || l === undefined ? null : { loss: l.loss, perplexity: l.perplexity };

/** One cell: finetune (no adapter written: the row is the result), then write its row atomically. */
export async function runLmSweepJob(job: LmSweepJob): Promise<void> {
  const { runLmFinetune } = await import("./finetune.ts");
  const r = await runLmFinetune(job.spec, { tokenCache: path.join(sweepDirOf(job.file), TOKEN_CACHE_DIR) });
  const row: LmRunRow & Record<string, unknown> = {
    init: r.spec.init,
    lr: r.spec.lr,
    seed: r.spec.seed,
    diverged: r.diverged,
    collapsed: r.collapsed,
    validation: heldOut(r.validation?.after),
    test: heldOut(r.test?.after),
    validationBefore: heldOut(r.validation?.before),
    testBefore: heldOut(r.test?.before),
    tokensPerSecond: r.tokensPerSecond,
    peakRssMiB: r.peakRssMiB,
    finalLoss: r.losses.at(-1) ?? null,
    steps: r.steps,
    dynamics: meanOverModules(r.dynamics),
    moduleDynamics: r.dynamics,
    spec: r.spec,
  };
  await writeRowFile(job.file, [row]);
}
