// The sweep's headline numbers as one JSON object (keys fixed by the reproduce command's contract)
// and as a compact terminal table. Non-finite numbers become null in JSON.
import type { CriterionAnalysis, ExponentFit, SweepAnalysis } from "./types.ts";

type Num = number | null;
type PerInit<T> = Record<string, T>;

function num(x: number | null | undefined): Num {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

function ci(f: ExponentFit): [Num, Num] {
  return [num(f.ci[0]), num(f.ci[1])];
}

function perInit<T>(a: SweepAnalysis, f: (i: SweepAnalysis["inits"][number]) => T): PerInit<T> {
  return Object.fromEntries(a.inits.map((i) => [i.init, f(i)]));
}

function byWidth(c: CriterionAnalysis, f: (cell: CriterionAnalysis["cells"][number]) => number): Record<string, Num> {
  return Object.fromEntries(c.cells.map((cell) => [String(cell.width), num(f(cell))]));
}

function criterionKeys(a: SweepAnalysis, pick: "train" | "test") {
  return {
    slope: perInit(a, (i) => num(i[pick].fit.slope)),
    slopeCI: perInit(a, (i) => ci(i[pick].fit)),
    optimalLr: perInit(a, (i) => byWidth(i[pick], (c) => c.lrStar)),
    optimalLrCI: perInit(a, (i) =>
      Object.fromEntries(i[pick].cells.map((c) => [String(c.width), [num(c.lrStarCI[0]), num(c.lrStarCI[1])]])),
    ),
    optimalLrAtGridEdge: perInit(a, (i) => Object.fromEntries(i[pick].cells.map((c) => [String(c.width), c.atEdge]))),
    bestLoss: perInit(a, (i) => byWidth(i[pick], (c) => c.bestLoss)),
    rmsZAatOptimum: perInit(a, (i) => byWidth(i[pick], (c) => c.rmsZA)),
    rmsZBatOptimum: perInit(a, (i) => byWidth(i[pick], (c) => c.rmsZB)),
    rmsZASlope: perInit(a, (i) => ({
      slope: num(i[pick].rmsZAFit.slope),
      ci: ci(i[pick].rmsZAFit),
      theory: i[pick].rmsZAFit.theory,
    })),
    rmsZBSlope: perInit(a, (i) => ({
      slope: num(i[pick].rmsZBFit.slope),
      ci: ci(i[pick].rmsZBFit),
      theory: i[pick].rmsZBFit.theory,
    })),
    transfer: perInit(a, (i) => {
      const t = i[pick].transfer;
      if (t === null) return null;
      return {
        fitWidths: t.fitWidths,
        slope: num(t.slope),
        meanAbsLogRatio: num(t.meanAbsLogRatio),
        points: Object.fromEntries(
          t.points.map((p) => [
            String(p.width),
            {
              predicted: num(p.predicted),
              measured: num(p.measured),
              logRatio: num(p.logRatio),
              theoryLogRatio: num(p.theoryLogRatio),
            },
          ]),
        ),
      };
    }),
  };
}

/** The summary object written by `reproduce` (summary.json). */
export function summaryJson(a: SweepAnalysis) {
  const { transfer, ...train } = criterionKeys(a, "train");
  const test = criterionKeys(a, "test");
  return {
    ...train,
    stableLr: perInit(a, (i) => Object.fromEntries(i.edge.cells.map((c) => [String(c.width), num(c.lr)]))),
    stableSlope: perInit(a, (i) => num(i.edge.fit.slope)),
    stableSlopeCI: perInit(a, (i) => ci(i.edge.fit)),
    diverged: perInit(a, (i) => i.diverged),
    runs: perInit(a, (i) => i.runs),
    test,
    transfer,
    ratio:
      a.ratio === null
        ? null
        : {
            byWidth: Object.fromEntries(a.ratio.rows.map((r) => [String(r.width), num(r.ratio)])),
            sqrtWidth: Object.fromEntries(a.ratio.rows.map((r) => [String(r.width), r.sqrtWidth])),
            slope: num(a.ratio.fit.slope),
            slopeCI: ci(a.ratio.fit),
            theory: a.ratio.fit.theory,
          },
    theory: perInit(a, (i) => ({
      slope: i.train.fit.theory,
      stableSlope: i.edge.fit.theory,
      rmsZASlope: i.train.rmsZAFit.theory,
    })),
    options: a.options,
  };
}

function g(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toPrecision(digits) : "—";
}

function slopeText(f: ExponentFit): string {
  const th = f.theory === null ? "" : ` (theory ${f.theory >= 0 ? "+" : ""}${f.theory})`;
  return `${g(f.slope)} [${g(f.ci[0])}, ${g(f.ci[1])}]${th}`;
}

/** A compact terminal table: per init, slopes with 95 % CIs next to the theory, then per width. */
export function formatSummary(a: SweepAnalysis): string {
  const out: string[] = [];
  for (const i of a.inits) {
    out.push(`${i.init}  (${i.runs} runs, ${i.diverged} diverged; CI: ${a.options.ciMethod}, 95 %)`);
    out.push(`  η* slope (train)   ${slopeText(i.train.fit)}`);
    out.push(`  η* slope (test)    ${slopeText(i.test.fit)}`);
    out.push(`  edge slope         ${slopeText(i.edge.fit)}   [max RMS(Z_B) ≤ ${a.options.edgeThreshold}]`);
    out.push(`  RMS Z_A at η*      ${slopeText(i.train.rmsZAFit)}`);
    const head = ["width", "η* train", "η* test", "edge", "best loss", "RMS Z_A@η*"];
    const rows = i.train.cells.map((c, k) => {
      const t = i.test.cells[k];
      const e = i.edge.cells[k];
      return [
        String(c.width),
        g(c.lrStar) + (c.atEdge ? "!" : ""),
        t === undefined ? "—" : g(t.lrStar) + (t.atEdge ? "!" : ""),
        e === undefined || e.lr === null ? "—" : g(e.lr) + (e.atEdge ? "≥" : ""),
        g(c.bestLoss, 4),
        g(c.rmsZA),
      ];
    });
    const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] as string).length)));
    const line = (r: string[]): string => "  " + r.map((s, k) => s.padStart(widths[k] as number)).join("  ");
    out.push(line(head));
    for (const r of rows) out.push(line(r));
    const tr = i.train.transfer;
    if (tr !== null) {
      out.push(
        `  transfer (fit on n ≤ ${tr.fitWidths[tr.fitWidths.length - 1]}): ` +
          tr.points.map((p) => `n=${p.width} ln(pred/meas)=${g(p.logRatio, 2)}`).join(", "),
      );
    }
    out.push("");
  }
  if (a.ratio !== null) {
    out.push(`η*_A/η*_B: ` + a.ratio.rows.map((r) => `n=${r.width} ${g(r.ratio)} (√n=${g(r.sqrtWidth)})`).join(", "));
    out.push(`  ratio slope ${slopeText(a.ratio.fit)}`);
  }
  out.push("(! = η* at a grid edge; ≥ = stable over the whole grid)");
  return out.join("\n");
}
