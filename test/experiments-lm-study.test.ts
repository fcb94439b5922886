// The language-model width study end to end at toy size: two widths pretrained here on one text,
// LoRA-finetuned on another over a 2 × 2 grid, analysed across widths; a rerun trains nothing; the
// report is written (cli-reproduce-lm-quick.test.ts opens the --quick study's page in Chromium).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { analyzeLmStudy, formatLmStudy, lmStudyJson, studyRows } from "../src/analysis/lm-study.ts";
import { runLmStudy } from "../src/experiments/lm/study.ts";
import { lmStudySpec } from "../src/experiments/lm/study-spec.ts";
import { writeReport } from "../src/report/index.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-lm-study-"));
const speech = path.join(dir, "speech.txt");
await writeFile(speech, "We the people of the United States, in order to form a more perfect union, establish justice.\n".repeat(10));
const science = path.join(dir, "science.txt");
await writeFile(science, "The molecule was observed under the microscope at a magnification of four hundred.\n".repeat(10));
// Tiny on purpose (CI has two cores): widths 16 and 32, one layer, 16-token blocks, 3 finetuning steps.
const study = lmStudySpec({
  widths: [16, 32], layers: 1, headDim: 8, seqLen: 16, rank: 2,
  pretrainData: speech, pretrainValid: speech, pretrainSteps: 6, pretrainBatch: 4,
  finetuneData: science, finetuneValid: science, lrs: [1e-3, 1e-2], seeds: 1, steps: 3, batch: 4,
  evalLimit: 4, dynamicsEvery: 1,
});

test("a toy-size LM width study runs end to end, resumes without work, and writes its report", { timeout: 600_000 }, async () => {
  const out = path.join(dir, "study");
  const r = await runLmStudy(study, out, { workers: 0 });
  assert.equal(r.runsTotal, 8);
  assert.equal(r.runsSkipped, 0);
  assert.deepEqual(r.widths.map((w) => [w.width, w.rows.length]), [[16, 4], [32, 4]]);
  for (const w of r.widths) for (const row of w.rows) assert.ok((row.dynamics?.length ?? 0) >= 2, "dynamics recorded");
  const analysis = analyzeLmStudy(r.widths, r.pretrained);
  const json = lmStudyJson(analysis);
  assert.deepEqual(Object.keys((json["pretrained"] as object[])[0] as object).sort(), ["parameters", "perplexity", "unigramPerplexity", "width"]);
  type StudyFile = { spec: { widths: number[] }; fresh: boolean; seconds: number; widthsPretrained: number[] };
  const first = JSON.parse(await readFile(path.join(out, "study.json"), "utf8")) as StudyFile;
  assert.deepEqual([first.spec.widths, first.fresh, first.widthsPretrained], [[16, 32], true, [16, 32]]);
  assert.ok(first.seconds > 0);
  const again = await runLmStudy(study, out, { workers: 0 });
  assert.equal(again.runsSkipped, 8);
  const second = JSON.parse(await readFile(path.join(out, "study.json"), "utf8")) as StudyFile;
  assert.deepEqual([second.fresh, second.widthsPretrained], [false, []], "a rerun that reused everything is not a fresh study");
  assert.ok(again.members.every((m) => !m.trained));
  assert.deepEqual(again.widths, r.widths);

  const files = await writeReport(out, {
    rows: studyRows(r.widths),
    analysis: analysis.sweep,
    spec: study,
    title: "LM width study",
    summaryText: formatLmStudy(analysis),
    criterion: { key: "test", label: "validation loss" },
  });
  assert.match(await readFile(files.markdown, "utf8"), /## Pretrained family/);
  assert.match(await readFile(files.html, "utf8"), /final validation loss/, "the figures choose η* on validation loss");
});
