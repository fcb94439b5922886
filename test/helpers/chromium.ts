// Open a report page in headless Chromium (Debian's /usr/bin/chromium, a fresh profile per call) and
// hand the loaded page to `inspect`; returns the console errors and the non-file network requests
// the page made, which a self-contained report must not have.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

export async function withChromiumPage(
  html: string,
  inspect: (page: Page) => Promise<void>,
): Promise<{ errors: string[]; requests: string[] }> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the report test`,
  );
  const profile = await mkdtemp(join(tmpdir(), "lorascope-chromium-"));
  try {
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
      await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
      await inspect(page);
      return { errors, requests };
    } finally {
      await browser.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Drawn elements (paths, texts, lines) of each `figure#id` svg on the page. */
export async function figureMarks(page: Page, ids: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = await page.locator(`figure#${id} svg`).first().locator("path, text, line").count();
  return out;
}
