// Builds a report from synthetic rows and opens it in headless Chromium: no console errors, no
// network requests, and every figure present, captioned and non-empty.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { analyzeSweep } from "../src/analysis/index.ts";
import { runCoordCheck } from "../src/experiments/coordcheck.ts";
import { writeReport } from "../src/report/index.ts";
import { syntheticRows } from "./helpers/synthetic-rows.ts";

const CHROMIUM = "/usr/bin/chromium";
const FIGS = ["fig-a", "fig-b", "fig-c", "fig-d", "fig-e", "fig-f"];

test("report from synthetic rows renders every figure in headless Chromium", async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the report test`,
  );
  const dir = await mkdtemp(join(tmpdir(), "lorascope-report-"));
  const profile = await mkdtemp(join(tmpdir(), "lorascope-chromium-"));
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

    // A fresh profile directory per run (playwright takes it as launchPersistentContext's first argument).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      await page.goto(pathToFileURL(out.html).href, { waitUntil: "load" });
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
      assert.deepEqual(errors, [], `console errors: ${errors.join("; ")}`);
      assert.deepEqual(requests, [], `network requests: ${requests.join(", ")}`);
    } finally {
      await browser.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
});
