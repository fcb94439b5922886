// Vega-Lite spec → standalone SVG string, headless in Node.
// Why vega-lite rather than hand-written SVG: log axes with readable ticks, facets and legends come
// for free and the specs stay short data descriptions; vega's "none" renderer plus toSVG() needs no
// DOM or canvas (text widths are estimated), and its output references no external resources.
import * as vega from "vega";
import * as vl from "vega-lite";

export type Spec = vl.TopLevelSpec;

export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A small SVG carrying one message, for a figure whose data is absent (never an empty figure). */
export function placeholderSvg(message: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60" viewBox="0 0 480 60">` +
    `<rect width="480" height="60" fill="white" stroke="#bbb"/>` +
    `<text x="240" y="35" text-anchor="middle" font-family="sans-serif" font-size="13" fill="#555">${escapeXml(message)}</text></svg>`
  );
}

export { escapeXml };
