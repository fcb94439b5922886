// `lorascope reproduce --study lm --quick` as a user runs it: the whole width study at its smallest
// (two widths pretrained on State of the Union addresses, each finetuned on Brown "learned" over
// three learning rates × both inits), its --json summary with the toy's keys and the family's
// perplexities, OUT/study.json, and the report page opened in headless Chromium with every figure
// drawn and no network request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope } from "./support/cli.ts";
import { figureMarks, withChromiumPage } from "./helpers/chromium.ts";

test("reproduce --study lm --quick runs end to end and its report opens in Chromium", { timeout: 900_000 }, async () => {
  const out = path.join(await mkdtemp(path.join(tmpdir(), "lorascope-lm-quick-")), "study");
  const r = await lorascope("reproduce", "--study", "lm", "--quick", "--out", out, "--json");
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as {
    optimalLr: unknown;
    validationRatio: { rows: Array<{ width: number; ratio: number }> } | null;
    pretrained: Array<{ width: number; perplexity: number; unigramPerplexity: number }>;
    perWidth: Record<string, unknown>;
    report: string;
  };
  assert.ok(json.optimalLr !== undefined);
  assert.deepEqual(json.pretrained.map((p) => p.width), [32, 64]);
  for (const p of json.pretrained) {
    assert.ok(Number.isFinite(p.perplexity) && p.unigramPerplexity > 1, JSON.stringify(p));
  }
  assert.deepEqual(Object.keys(json.perWidth), ["32", "64"]);
  assert.deepEqual(json.validationRatio?.rows.map((x) => x.width), [32, 64]);
  const record = JSON.parse(await readFile(path.join(out, "study.json"), "utf8")) as { fresh: boolean; runsTotal: number };
  assert.deepEqual([record.fresh, record.runsTotal], [true, 12]);

  let marks: Record<string, number> = {};
  const page = await withChromiumPage(json.report, async (p) => void (marks = await figureMarks(p, ["fig-a", "fig-b", "fig-c", "fig-d"])));
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.requests, []);
  // Two widths are too few for a transfer test (f), and the coord-check (e) is the toy's: placeholders.
  for (const [id, n] of Object.entries(marks)) assert.ok(n > 5, `${id}: ${n} drawn elements`);
});
