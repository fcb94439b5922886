// The report as one self-contained HTML page (inline SVG, inline CSS, no scripts, no external
// URLs) and as a markdown summary that links the same SVG files.
import type { CoordCheckResult } from "../experiments/coordcheck.ts";
import { escapeXml } from "./render.ts";

export interface Figure {
  /** `fig-a` … `fig-f`: the element id in the page and the SVG file name. */
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
  /** Extra HTML under the figure (the coord-check table). */
  readonly extraHtml?: string;
}

const CSS = `
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
figure { margin: 2em 0; padding: 1em; border: 1px solid #ddd; border-radius: 6px; overflow-x: auto; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.5em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
table { border-collapse: collapse; font-size: 0.85em; margin-top: 1em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.off { color: #b00; font-weight: bold; }
`;

/** The SVG with its XML prolog removed so it can sit inline in HTML. */
function inline(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : "—";
}

/** Coord-check table: per setting and quantity, measured slope next to the theory. */
export function coordCheckTableHtml(c: CoordCheckResult): string {
  const qs = [
    ["zA", "RMS Z_A"],
    ["zB", "RMS Z_B"],
    ["dB", "RMS(B−B₀)"],
  ] as const;
  const head = `<tr><th>setting</th>${qs.map(([, l]) => `<th>${l} slope</th><th>theory</th>`).join("")}</tr>`;
  const body = c.rows
    .map(
      (r) =>
        `<tr><td>${escapeXml(r.name)}</td>` +
        qs
          .map(([q]) => `<td${r.pass[q] ? "" : ' class="off"'}>${fmt(r.slope[q])}</td><td>${fmt(r.theory[q])}</td>`)
          .join("") +
        `</tr>`,
    )
    .join("\n");
  return (
    `<table>${head}\n${body}</table>` +
    `<p>Widths ${c.widths.join(", ")}; T = ${c.steps} SignSGD steps; ${c.seeds} seed(s); ` +
    `red: more than ±${c.tolerance} from the theory.</p>`
  );
}

export function coordCheckTableMarkdown(c: CoordCheckResult): string {
  const lines = [
    "| setting | Z_A slope (theory) | Z_B slope (theory) | B−B₀ slope (theory) |",
    "|---|---|---|---|",
    ...c.rows.map(
      (r) =>
        `| ${r.name} | ` +
        (["zA", "zB", "dB"] as const)
          .map((q) => `${fmt(r.slope[q])} (${fmt(r.theory[q])})${r.pass[q] ? "" : " **off**"}`)
          .join(" | ") +
        " |",
    ),
  ];
  return lines.join("\n");
}

export function renderHtml(title: string, summaryText: string, figures: readonly Figure[], spec: unknown): string {
  const figs = figures
    .map(
      (f) =>
        `<figure id="${f.id}">\n<h2>${escapeXml(f.title)}</h2>\n${inline(f.svg)}\n` +
        `<figcaption>${escapeXml(f.caption)}</figcaption>\n${f.extraHtml ?? ""}</figure>`,
    )
    .join("\n");
  const specBlock =
    spec === undefined
      ? ""
      : `<details><summary>Sweep spec</summary><pre>${escapeXml(JSON.stringify(spec, null, 2))}</pre></details>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<h2>Summary</h2>
<pre>${escapeXml(summaryText)}</pre>
${specBlock}
${figs}
</body>
</html>
`;
}

export function renderMarkdown(
  title: string,
  summaryText: string,
  figures: readonly Figure[],
  coord: CoordCheckResult | undefined,
): string {
  const parts = [`# ${title}`, "", "```", summaryText, "```", ""];
  for (const f of figures) {
    parts.push(`## ${f.title}`, "", `![${f.title}](figures/${f.id}.svg)`, "", f.caption, "");
    if (f.id === "fig-e" && coord !== undefined) parts.push(coordCheckTableMarkdown(coord), "");
  }
  return parts.join("\n");
}
