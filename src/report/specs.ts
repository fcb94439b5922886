// The report's figures as Vega-Lite specs: pure functions of sweep rows, the analysis and the
// coord-check result. Each returns null when its data is absent (the page then shows a placeholder).
import type { SweepAnalysis } from "../analysis/index.ts";
import type { CoordCheckResult } from "../experiments/coordcheck.ts";
import type { DynamicsPoint } from "../experiments/rows.ts";
import type { Row, StepRow } from "../experiments/toy/rows.ts";
import type { Spec } from "./render.ts";

const LOG = { type: "log" } as const;

/** Which loss chooses η* in the figures: the toy's train loss, or a held-out loss (LM: validation). */
export interface Criterion {
  readonly key: "train" | "test";
  /** In axis titles and legends, e.g. "train loss". */
  readonly label: string;
}
export const TRAIN_LOSS: Criterion = { key: "train", label: "train loss" };
const BASE = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", background: "white" } as const;

/** (a) Final loss (the criterion's) vs lr per width, one panel per init. ∞ (diverged) points are left out. */
export function lossVsLrSpec(a: SweepAnalysis, by: Criterion = TRAIN_LOSS): Spec | null {
  const values = a.inits.flatMap((i) =>
    i[by.key].cells.flatMap((c) =>
      c.curve
        .filter((p) => Number.isFinite(p.loss) && p.loss > 0)
        .map((p) => ({ init: i.init, width: c.width, lr: p.lr, loss: p.loss })),
    ),
  );
  if (values.length === 0) return null;
  return {
    ...BASE,
    data: { values },
    facet: { column: { field: "init", type: "nominal", title: null } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: "line", point: { size: 12 } },
      encoding: {
        x: { field: "lr", type: "quantitative", scale: LOG, title: "learning rate" },
        y: { field: "loss", type: "quantitative", scale: LOG, title: `final ${by.label} (seed geo-mean)` },
        color: { field: "width", type: "ordinal", scale: { scheme: "viridis" }, title: "width n" },
      },
    },
  };
}

/** (b) η* and the stability edge vs width, log–log, with fitted lines and n^-1/2, n^-1 guides. */
export function lrVsWidthSpec(a: SweepAnalysis, by: Criterion = TRAIN_LOSS): Spec | null {
  const star = `η* (${by.label})`;
  const points = a.inits.flatMap((i) => [
    ...i[by.key].cells
      .filter((c) => c.lrStar > 0)
      .map((c) => ({ init: i.init, width: c.width, lr: c.lrStar, kind: star })),
    ...i.edge.cells.flatMap((c) =>
      c.lr !== null && c.lr > 0 ? [{ init: i.init, width: c.width, lr: c.lr, kind: "stability edge" }] : [],
    ),
  ]);
  if (points.length === 0) return null;
  const widths = points.map((p) => p.width);
  const [lo, hi] = [Math.min(...widths), Math.max(...widths)];
  const fits = a.inits.flatMap((i) =>
    [
      { kind: star, f: i[by.key].fit },
      { kind: "stability edge", f: i.edge.fit },
    ].flatMap(({ kind, f }) =>
      Number.isFinite(f.slope)
        ? [lo, hi].map((w) => ({ init: i.init, kind, width: w, lr: Math.exp(f.intercept + f.slope * Math.log(w)) }))
        : [],
    ),
  );
  // Guides anchored at the geometric mean of all plotted lrs at the smallest width.
  const atLo = points.filter((p) => p.width === lo).map((p) => Math.log(p.lr));
  const anchor = Math.exp(atLo.reduce((s, x) => s + x, 0) / atLo.length);
  const guides = [-0.5, -1].flatMap((e) =>
    [lo, hi].map((w) => ({ guide: e === -0.5 ? "∝ n^-1/2" : "∝ n^-1", width: w, lr: anchor * (w / lo) ** e })),
  );
  const x = { field: "width", type: "quantitative", scale: LOG, title: "width n" } as const;
  const y = { field: "lr", type: "quantitative", scale: LOG, title: "learning rate" } as const;
  return {
    ...BASE,
    width: 420,
    height: 300,
    layer: [
      {
        data: { values: guides },
        mark: { type: "line", color: "#999", strokeDash: [2, 3] },
        encoding: { x, y, detail: { field: "guide" } },
      },
      {
        data: { values: guides.filter((g) => g.width === hi) },
        mark: { type: "text", align: "left", dx: 4, color: "#666" },
        encoding: { x, y, text: { field: "guide" } },
      },
      {
        data: { values: fits },
        mark: { type: "line" },
        encoding: {
          x,
          y,
          color: { field: "init", type: "nominal" },
          strokeDash: { field: "kind", type: "nominal", title: "fit" },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x,
          y,
          color: { field: "init", type: "nominal" },
          shape: { field: "kind", type: "nominal", title: "measure" },
        },
      },
    ],
  };
}

export interface StepSeries extends DynamicsPoint {
  readonly init: string;
  readonly width: number;
  readonly lr: number;
}

/**
 * StepRows of the runs at the smallest and largest width of each init, at the grid lr nearest η*
 * (by the criterion), averaged (arithmetic mean) over the seeds that did not diverge at that step.
 */
export function stepSeries(rows: readonly Row[], a: SweepAnalysis, by: Criterion = TRAIN_LOSS): StepSeries[] {
  const out: StepSeries[] = [];
  for (const i of a.inits) {
    const cells = i[by.key].cells.filter((c) => Number.isFinite(c.nearestLr));
    if (cells.length === 0) continue;
    const picked = [cells[0], cells[cells.length - 1]].filter((c, k, arr) => c !== undefined && arr.indexOf(c) === k);
    for (const c of picked) {
      if (c === undefined) continue;
      const steps = rows.filter(
        (r): r is StepRow =>
          r.kind === "step" && r.init === i.init && r.width === c.width && Math.abs(r.lr / c.nearestLr - 1) < 1e-9,
      );
      const bySteps = new Map<number, StepRow[]>();
      for (const r of steps) bySteps.set(r.step, [...(bySteps.get(r.step) ?? []), r]);
      for (const [step, rs] of [...bySteps].sort((x, y) => x[0] - y[0])) {
        const avg = (f: (r: StepRow) => number): number => {
          const v = rs.map(f).filter((x) => Number.isFinite(x));
          return v.length === 0 ? NaN : v.reduce((s, x) => s + x, 0) / v.length;
        };
        out.push({
          init: i.init,
          width: c.width,
          lr: c.nearestLr,
          step,
          rmsZA: avg((r) => r.rmsZA),
          rmsZB: avg((r) => r.rmsZB),
          delta1: avg((r) => r.delta1),
          delta2: avg((r) => r.delta2),
          delta3: avg((r) => r.delta3),
        });
      }
    }
  }
  return out;
}

function series(s: readonly StepSeries[], fields: readonly [keyof StepSeries, string][]) {
  return s.flatMap((p) =>
    fields.flatMap(([f, label]) => {
      const v = p[f] as number;
      return Number.isFinite(v) && v > 0
        ? [
            {
              run: `${p.init}, n=${p.width} (lr ${p.lr.toPrecision(2)})`,
              init: p.init,
              width: `n=${p.width}`,
              step: p.step,
              quantity: label,
              value: v,
            },
          ]
        : [];
    }),
  );
}

function stepPanels(values: unknown[], yTitle: string): Spec {
  return {
    ...BASE,
    data: { values: values as Record<string, unknown>[] },
    facet: { column: { field: "quantity", type: "nominal", title: null } },
    spec: {
      width: 260,
      height: 200,
      mark: { type: "line", point: { size: 10 } },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step" },
        y: { field: "value", type: "quantitative", scale: LOG, title: yTitle },
        color: { field: "init", type: "nominal" },
        strokeDash: { field: "width", type: "nominal", title: "width" },
        detail: { field: "run" },
      },
    },
  };
}

/** (c) RMS Z_A and Z_B vs step, smallest and largest width, each at its own η*. */
export function featuresSpec(s: readonly StepSeries[]): Spec | null {
  const values = series(s, [
    ["rmsZA", "RMS Z_A"],
    ["rmsZB", "RMS Z_B"],
  ]);
  return values.length === 0 ? null : stepPanels(values, "RMS over train points");
}

/** (d) The δ¹/δ²/δ³ decomposition of ΔZ_B over training (same runs as (c)). */
export function deltasSpec(s: readonly StepSeries[]): Spec | null {
  const values = series(s, [
    ["delta1", "δ¹ (A's update)"],
    ["delta2", "δ² (B's update)"],
    ["delta3", "δ³ (cross term)"],
  ]);
  return values.length === 0 ? null : stepPanels(values, "RMS of the term");
}

/** (e) Coord-check: measured slope vs theoretical exponent, with y = x and the ±tolerance band. */
export function coordCheckSpec(c: CoordCheckResult): Spec {
  const label = { zA: "RMS Z_A", zB: "RMS Z_B", dB: "RMS(B−B₀)" } as const;
  const values = c.rows.flatMap((r) =>
    (["zA", "zB", "dB"] as const).map((q) => ({
      setting: r.name,
      quantity: label[q],
      theory: r.theory[q],
      measured: r.slope[q],
      pass: r.pass[q] ? "within tolerance" : "off",
    })),
  );
  const diag = [-1.2, 0.7].map((t) => ({ theory: t, measured: t, lo: t - c.tolerance, hi: t + c.tolerance }));
  const x = {
    field: "theory",
    type: "quantitative" as const,
    title: "theoretical exponent",
    scale: { domain: [-1.2, 0.7] },
  };
  return {
    ...BASE,
    width: 380,
    height: 300,
    layer: [
      {
        data: { values: diag },
        mark: { type: "area", opacity: 0.15, color: "#4c78a8" },
        encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
      {
        data: { values: diag },
        mark: { type: "line", color: "#4c78a8" },
        encoding: { x, y: { field: "measured", type: "quantitative" } },
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 60, opacity: 0.8 },
        encoding: {
          x,
          y: { field: "measured", type: "quantitative", title: "measured log–log slope" },
          color: { field: "quantity", type: "nominal" },
          shape: { field: "pass", type: "nominal", title: `±${c.tolerance}` },
          tooltip: [{ field: "setting" }, { field: "quantity" }, { field: "measured", format: ".2f" }],
        },
      },
    ],
  };
}

/** (f) Learning-rate transfer: η* predicted from the smaller widths vs measured, log–log. */
export function transferSpec(a: SweepAnalysis, by: Criterion = TRAIN_LOSS): Spec | null {
  const values = a.inits.flatMap((i) =>
    (i[by.key].transfer?.points ?? [])
      .filter((p) => p.predicted > 0 && p.measured > 0)
      .map((p) => ({ init: i.init, width: p.width, predicted: p.predicted, measured: p.measured })),
  );
  if (values.length === 0) return null;
  const all = values.flatMap((v) => [v.predicted, v.measured]);
  const diag = [Math.min(...all) / 1.5, Math.max(...all) * 1.5].map((v) => ({ measured: v, predicted: v }));
  const x = { field: "measured", type: "quantitative", scale: LOG, title: "measured η*" } as const;
  const y = {
    field: "predicted",
    type: "quantitative",
    scale: LOG,
    title: "η* predicted from the smaller half of widths",
  } as const;
  return {
    ...BASE,
    width: 340,
    height: 300,
    layer: [
      { data: { values: diag }, mark: { type: "line", color: "#999", strokeDash: [4, 3] }, encoding: { x, y } },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 60 },
        encoding: { x, y, color: { field: "init", type: "nominal" }, tooltip: [{ field: "init" }, { field: "width" }] },
      },
      {
        data: { values },
        mark: { type: "text", dx: 6, align: "left", fontSize: 9 },
        encoding: { x, y, text: { field: "width" } },
      },
    ],
  };
}
