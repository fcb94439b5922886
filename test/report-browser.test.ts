// Builds a report from synthetic rows and opens it in headless Chromium: no console errors, no
// network requests, and every figure present, captioned and non-empty.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { withChromiumPage } from "./helpers/chromium.ts";
import { analyzeSweep } from "../src/analysis/index.ts";
import { runCoordCheck } from "../src/experiments/coordcheck.ts";
import { writeReport } from "../src/report/index.ts";
import { syntheticRows } from "./helpers/synthetic-rows.ts";

const FIGS = ["fig-a", "fig-b", "fig-c", "fig-d", "fig-e", "fig-f"];

test("report from synthetic rows renders every figure in headless Chromium", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lorascope-report-"));
  try {
    const rows = syntheticRows({ widths: [64, 256, 1024, 4096], seeds: [0, 1], stepRows: true, jitter: 0.1 });
    const analysis = analyzeSweep(rows, { bootstrapReplicates: 30 });
    const coordCheck = runCoordCheck({ widths: [64, 256], seeds: 1 });
    const out = await writeReport(dir, {
      rows,
      analysis,
      coordCheck,
      spec: { widths: [64, 256, 1024, 4096], note: "<synthetic>" },
    });

    const html = await readFile(out.html, "utf8");
    assert.doesNotMatch(html, /<script/i, "the page should need no scripts");
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*https?:/i, "the page must not reference external URLs");
    assert.doesNotMatch(html, /url\(\s*["']?https?:/i);
    assert.match(html, /&lt;synthetic&gt;/, "the spec is embedded, escaped");
    assert.equal(out.svgs.length, FIGS.length);
    for (const [k, p] of out.svgs.entries()) {
      assert.ok(p.endsWith(`figures/${FIGS[k]}.svg`));
      const svg = await readFile(p, "utf8");
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.ok(svg.length > 1000, `${p} is nearly empty (${svg.length} chars)`);
    }
    const md = await readFile(out.markdown, "utf8");
    for (const id of FIGS) assert.ok(md.includes(`(figures/${id}.svg)`), `summary.md does not link ${id}`);

    const { errors, requests } = await withChromiumPage(out.html, async (page) => {
      for (const id of FIGS) {
        const fig = page.locator(`figure#${id}`);
        assert.equal(await fig.count(), 1, `${id} missing`);
        const box = await fig.locator("svg").first().boundingBox();
        assert.ok(box !== null && box.width > 100 && box.height > 40, `${id} svg is empty: ${JSON.stringify(box)}`);
        const marks = await fig.locator("svg path, svg text, svg line").count();
        assert.ok(marks > 5, `${id} has only ${marks} drawn elements`);
        const caption = (await fig.locator("figcaption").textContent()) ?? "";
        assert.ok(caption.trim().length > 20, `${id} has no caption`);
      }
      // Figure (e) carries the coord-check table too.
      assert.ok((await page.locator("figure#fig-e table tr").count()) === coordCheck.rows.length + 1);
    });
    assert.deepEqual(errors, [], `console errors: ${errors.join("; ")}`);
    assert.deepEqual(requests, [], `network requests: ${requests.join(", ")}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
