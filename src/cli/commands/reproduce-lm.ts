// `lorascope reproduce --study lm`: the paper's width claims on language models pretrained here — a
// family of Llama widths pretrained on the same tokens, each LoRA-finetuned on a held-out domain over
// learning rate × init × seed, analysed across widths like the toy study. Told from the toy study by
// --study; the engine and the models load inside the run.
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import { LM_STUDY_DEFAULTS as D, LM_STUDY_LIMITS, LM_STUDY_QUICK as Q, type LmStudySpec } from "../../experiments/lm/study-spec.ts";
import { PRETRAIN_LIMITS } from "../../experiments/lm/pretrain-spec.ts";
import { INIT_SCHEMES } from "../../lora/config.ts";
import { CONFIG_FLAG } from "../encoder-flags.ts";
import { parseFlags, settingOf, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { exitOnSignal } from "../interrupt.ts";
import { lrsText, parseLrs } from "../lr-grid.ts";

export const STUDIES = ["toy", "lm"] as const;

/** --study, in both forms' tables: which study `reproduce` runs. */
export const STUDY_FLAG = {
  study: { kind: "string", choices: STUDIES, default: "toy", help: "which study: the toy teacher–student sweep, or language models pretrained here (lm)" },
} as const satisfies FlagTable;

/** --study from argv or a --config file; undefined means the toy study. */
export const studyOf = (argv: readonly string[]): Promise<string | undefined> => settingOf(argv, "study");

export const LM_STUDY_FLAGS = {
  ...CONFIG_FLAG,
  ...STUDY_FLAG,
  widths: { kind: "intlist", help: "model widths n (hidden size)", min: 2, max: PRETRAIN_LIMITS.width, default: D.widths },
  layers: { kind: "int", help: "decoder layers of every width", min: 1, max: PRETRAIN_LIMITS.layers, default: D.layers },
  "head-dim": { kind: "int", help: "features per head (heads = width / head-dim)", min: 2, max: PRETRAIN_LIMITS.width, default: D.headDim },
  "seq-len": { kind: "int", help: "sequence length of pretraining and finetuning", min: 2, max: PRETRAIN_LIMITS.seqLen, default: D.seqLen },
  "pretrain-steps": { kind: "int", help: "pretraining steps of every width", min: 1, max: PRETRAIN_LIMITS.steps, default: D.pretrainSteps },
  "pretrain-batch": { kind: "int", help: "pretraining sequences per batch", min: 1, max: PRETRAIN_LIMITS.batch, default: D.pretrainBatch },
  "pretrain-lr": { kind: "number", help: "pretraining peak learning rate", min: 1e-12, max: 1e3, default: D.pretrainLr },
  lrs: { kind: "string", help: "finetuning learning rates: a list a,b,c or min:max:count (log-spaced)", default: lrsText(D.lrs) },
  inits: { kind: "list", help: "adapter inits to compare", choices: INIT_SCHEMES, default: D.inits },
  seeds: { kind: "int", help: "seeds per cell (0…N−1)", min: 1, max: LM_STUDY_LIMITS.seeds, default: D.seeds },
  steps: { kind: "int", help: "finetuning steps per run", min: 1, max: PRETRAIN_LIMITS.steps, default: D.steps },
  batch: { kind: "int", help: "finetuning sequences per batch", min: 1, max: PRETRAIN_LIMITS.batch, default: D.batch },
  rank: { kind: "int", help: "LoRA rank r (lora_alpha = r)", min: 1, max: 65_536, default: D.rank },
  "eval-limit": { kind: "int", help: "held-out sequences per evaluation", min: 1, max: PRETRAIN_LIMITS.evalLimit, default: D.evalLimit },
  "dynamics-every": { kind: "int", help: "measure the LoRA dynamics every this many steps", min: 1, max: PRETRAIN_LIMITS.steps, default: D.dynamicsEvery },
  quick: {
    kind: "bool",
    short: "q",
    help: `a small study (widths ${Q.widths?.join(", ")}, ${Q.lrs?.length} learning rates, ${Q.seeds} seed, ${Q.pretrainSteps} pretraining and ${Q.steps} finetuning steps); flags given with it override it`,
  },
  out: { kind: "string", short: "o", value: "dir", setting: false, help: "output folder", default: "lorascope-lm-study" },
  json: { kind: "bool", setting: false, help: "print one JSON summary document on stdout; no progress" },
  workers: { kind: "int", short: "j", setting: false, min: 0, max: 256, help: "parallel worker processes for the finetuning runs (0 = in this process)", defaultText: "all cores" },
} as const satisfies FlagTable;

interface LmStudyConfig {
  readonly spec: LmStudySpec;
  readonly out: string;
  readonly json: boolean;
  readonly workers: number | undefined;
}

async function lmStudyConfig(argv: readonly string[]): Promise<LmStudyConfig> {
  const { values: v, positional, given } = await parseFlags(LM_STUDY_FLAGS, argv);
  if (positional.length > 0) throw new UserError(`reproduce takes no positional arguments, got "${positional[0]}"`);
  const partial: { -readonly [K in keyof LmStudySpec]?: LmStudySpec[K] } = v.quick ? { ...Q } : {};
  const set = <K extends keyof LmStudySpec>(flag: string, key: K, value: LmStudySpec[K]): void => {
    if (given.has(flag)) partial[key] = value;
  };
  set("widths", "widths", v.widths);
  set("layers", "layers", v.layers);
  set("head-dim", "headDim", v["head-dim"]);
  set("seq-len", "seqLen", v["seq-len"]);
  set("pretrain-steps", "pretrainSteps", v["pretrain-steps"]);
  set("pretrain-batch", "pretrainBatch", v["pretrain-batch"]);
  set("pretrain-lr", "pretrainLr", v["pretrain-lr"]);
  if (given.has("lrs")) partial.lrs = parseLrs(v.lrs);
  set("inits", "inits", v.inits);
  set("seeds", "seeds", v.seeds);
  set("steps", "steps", v.steps);
  set("batch", "batch", v.batch);
  set("rank", "rank", v.rank);
  set("eval-limit", "evalLimit", v["eval-limit"]);
  set("dynamics-every", "dynamicsEvery", v["dynamics-every"]);
  const { lmStudySpec } = await import("../../experiments/lm/study-spec.ts");
  return { spec: lmStudySpec(partial), out: path.resolve(v.out), json: v.json, workers: v.workers };
}

async function runLmStudyCommand(cfg: LmStudyConfig): Promise<number> {
  const { runLmStudy, SWEEPS_DIR } = await import("../../experiments/lm/study.ts");
  const { memberDir } = await import("../../experiments/lm/family.ts");
  const { analyzeLmStudy, formatLmStudy, lmStudyJson, studyRows } = await import("../../analysis/lm-study.ts");
  const { writeReport } = await import("../../report/index.ts");
  const { ProgressBar } = await import("../../train/progress.ts");
  const { spec } = cfg;
  const total = spec.widths.length * spec.lrs.length * spec.inits.length * spec.seeds;
  let saved = 0;
  // Set while a width is pretraining (its checkpoint is what an interrupt keeps).
  let pretraining: number | undefined;
  exitOnSignal("reproduce", () =>
    pretraining !== undefined
      ? `width ${pretraining} was pretraining: its last checkpoint in ${memberDir(cfg.out, pretraining)} is kept; run the same command again to resume.`
      : `${saved} of ${total} finetuning runs are saved in ${path.join(cfg.out, SWEEPS_DIR)}; run the same command again to resume.`,
  );
  const log = (line: string): void => void (cfg.json || process.stderr.write(`${line}\n`));
  let bar: InstanceType<typeof ProgressBar> | undefined;
  const result = await runLmStudy(spec, cfg.out, {
    ...(cfg.workers === undefined ? {} : { workers: cfg.workers }),
    progress: log,
    onPretraining: (width) => void (pretraining = width),
    onRun: (done, all) => {
      saved = done;
      bar ??= new ProgressBar(all, all, "finetuning runs", { silent: cfg.json });
      bar.update(done, done);
    },
  });
  bar?.done(cfg.json ? "" : `${result.runsTotal} finetuning runs (${result.runsSkipped} already done) in ${result.seconds.toFixed(1)} s`);
  const analysis = analyzeLmStudy(result.widths, result.pretrained);
  const summaryText = formatLmStudy(analysis);
  const files = await writeReport(cfg.out, {
    rows: studyRows(result.widths),
    analysis: analysis.sweep,
    spec,
    title: "lorascope: LoRA learning rate vs width on language models pretrained here, init-a and init-b",
    summaryText,
    criterion: { key: "test", label: "validation loss" },
  });
  if (cfg.json) {
    process.stdout.write(JSON.stringify({ ...lmStudyJson(analysis), report: files.html }) + "\n");
  } else {
    process.stdout.write(summaryText + "\n");
    process.stdout.write(`report: ${files.html}\nsummary: ${files.markdown}\n`);
  }
  return 0;
}

export function lmStudyHelp(): string {
  return commandHelp(
    "Usage: lorascope reproduce --study lm [--quick] [options]",
    [
      "Pretrains a family of Llama-architecture models that differ only in width (OUT/models/w<n>, each on the same State of the Union tokens; reused on a rerun with the same settings), LoRA-finetunes each on the Brown corpus's \"learned\" genre over learning rate × init × seed (OUT/sweeps/w<n>, resumable), then analyses η* per width and init on validation loss, the stability edge from RMS(Z_B), the slopes with bootstrap CIs, η*_A/η*_B against √n and the best test perplexity per init, into index.html, summary.md and --json.",
    ],
    LM_STUDY_FLAGS,
  );
}

export async function prepareLmStudy(argv: readonly string[]): Promise<() => Promise<number>> {
  const cfg = await lmStudyConfig(argv);
  const { guardOutDir } = await import("../../io/out-dir.ts");
  await guardOutDir(cfg.out, { mode: "fill", command: "reproduce" });
  return () => runLmStudyCommand(cfg);
}
