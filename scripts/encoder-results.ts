// The sentence-encoder section of docs/RESULTS.md: analysed from the sweep rows committed under
// docs/sweeps/<task>/ (written by `lorascope sweep … --out docs/sweeps/<task>`), with the command
// that recreates each folder. Used by scripts/results.ts; `node --import tsx scripts/encoder-results.ts`
// prints it alone.
import fs from "node:fs";
import path from "node:path";
import { analyzeEncoderSweep, formatEncoderSweep, paperVerdict } from "../src/analysis/encoder-sweep.ts";
import { readRows, type EncoderSweepSpec } from "../src/experiments/encoder/sweep.ts";
import { SWEEP_FILE } from "../src/experiments/grid-sweep.ts";
import { escapeMarkdown } from "./markdown.ts";

/** The `lorascope sweep` command line that (re)creates a committed encoder sweep folder. */
function sweepCommand(s: EncoderSweepSpec, dir: string): string {
  const opt = (flag: string, v: number | undefined): string => (v === undefined ? "" : ` --${flag} ${v}`);
  return (
    `npx lorascope sweep --model use-lite --task ${s.task} --lrs ${s.lrs.join(",")} --inits ${s.inits.join(",")} --seeds ${s.seeds}` +
    `${opt("epochs", s.epochs)}${opt("head-lr", s.headLr)}${s.headInit === "probe" ? " --head-init probe" : ""}${opt("batch", s.batch)}${opt("limit", s.limit)}${opt("eval-limit", s.evalLimit)} --out ${dir}`
  );
}


/** The section of one committed encoder sweep (docs/sweeps/<task>), or how to run it. */
function encoderSection(root: string, task: string): string {
  const rel = `docs/sweeps/${task}`;
  const dir = path.join(root, rel);
  const specFile = path.join(dir, SWEEP_FILE);
  if (!fs.existsSync(specFile)) return `### ${task}\n\nNot run yet: no \`${rel}/${SWEEP_FILE}\`.\n`;
  const s = JSON.parse(fs.readFileSync(specFile, "utf8")) as EncoderSweepSpec;
  const rows = readRows(dir, s);
  const total = s.lrs.length * s.inits.length * s.seeds;
  const summary = analyzeEncoderSweep(rows);
  const used = rows[0]?.splits?.used;
  const verdict =
    summary.paper === null
      ? []
      : paperVerdict(summary.paper).map((v) => `- **The paper predicts that ${escapeMarkdown(v).replace(" — ", "** — ")}`);
  return [
    `### ${task}`,
    "",
    "```sh",
    sweepCommand(s, rel),
    "```",
    "",
    `${rows.length} of ${total} runs on disk${rows.length < total ? " (INCOMPLETE: rerun the command to finish)" : ""}; ` +
      (used === undefined
        ? ""
        : `train ${used.train}, validation ${used.validation}, test ${used.test} examples per seed; `) +
      `${s.epochs} epoch(s), batch ${s.batch}, head lr ${s.headLr}${s.headInit === "probe" ? " (the head starts from the probe)" : ""}, LoRA r = 8 on q/k/v/o_proj and fc1/fc2 of both layers.`,
    "",
    ...verdict,
    "",
    escapeMarkdown(formatEncoderSweep(summary, `use-lite ${s.task}: ${s.inits.join(" vs ")}, ${s.seeds} seed(s)`)).replace(
      /^## /,
      "#### ",
    ),
  ].join("\n");
}

/** The RESULTS.md section of the committed sentence-encoder sweeps under `root`/docs/sweeps. */
export function encoderResults(root: string): string {
  return `## The pretrained sentence encoder: Universal Sentence Encoder lite

LoRA finetunes of USE-lite (a 2-layer pretrained transformer, [sentence-encoder.md](sentence-encoder.md))
on two real tasks, learning rate × init × seed. η\\* of an init is the learning rate with the best mean
validation accuracy (ties: the lower mean validation loss); its test accuracy at η\\* is reported over seeds, next to a linear probe on the
frozen encoder (same split and test sentences per seed, so the gain over the probe is paired by seed).
The column "minus the probe, validation + test" pools both held-out splits (twice the examples of the
test split alone); at a fixed learning rate neither split chose anything, while in the η\\* rows the
validation half is the one that chose η\\*.
The rows of every run are committed in \`docs/sweeps/<task>/runs/\`: the command under each task
reuses them (it skips finished runs) and prints the same tables; delete the folder to rerun from scratch.

${encoderSection(root, "sentiment")}

${encoderSection(root, "spam")}

### Finetune vs probe on sentiment with six seeds

One learning rate — init-a's η\\* above, chosen on validation — on seeds 0–5, so that the test-split
comparison with the probe has twice the seeds (seeds 0–2 repeat the runs above bit for bit).

${encoderSection(root, "sentiment-6-seeds").replace(/^### sentiment-6-seeds\n/, "")}

### Finetune vs probe on sentiment, the head started from the probe (LP-FT), ten seeds

Neither sentiment comparison above shows a clear gain over the probe on the test split (their last lines say
so): the head starts from scratch there, and the paired gain varies by several points between seeds.
This run was designed after seeing them, and its protocol was fixed before it ran: the head starts
from each seed's trained probe (\`--head-init probe\`: linear probing, then finetuning), so every
finetune begins exactly at its probe's predictions; init-a; three learning rates around init-a's η\\*
above; ten seeds, each with its own split; η\\* chosen on validation as everywhere on this page. The
gain counts as clear when its mean over the seeds is more than two standard errors above 0.

${encoderSection(root, "sentiment-lpft").replace(/^### sentiment-lpft\n/, "")}

### Spam, the head started from the probe (LP-FT)

The spam sweep above, rerun with one change, \`--head-init probe\`: same grid, seeds, subsample and
20-step budget, both inits, so the paper check can be read under LP-FT too. Fixed before it ran.

${encoderSection(root, "spam-lpft").replace(/^### spam-lpft\n/, "")}
`;
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.stdout.write(encoderResults(path.resolve(import.meta.dirname, "..")));
