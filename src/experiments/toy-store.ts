// The sweep's output folder: spec.json, and runs/<job id>.jsonl (one row per line, rows.ts), each
// written to a temp file and renamed, so a file either holds a whole finished job or does not exist.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../io/atomic.ts";
import { runId, type Row } from "./rows.ts";

export function runsDir(outDir: string): string {
  return path.join(outDir, "runs");
}

/** JSON with NaN/±Infinity kept as null/±1e308-free strings: NaN → null (JSON has no NaN). */
export function rowLine(row: Row): string {
  return JSON.stringify(row, (_k, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? "Infinity" : "-Infinity") : v,
  );
}

export function writeJobFile(file: string, rows: readonly Row[]): void {
  writeFileAtomicSync(file, rows.map(rowLine).join("\n") + "\n");
}

const fixNumber = (v: unknown): unknown => (v === null ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v);

/** Parse one JSONL file of rows (nulls back to NaN for numeric fields; `divergedAt` keeps null). */
export function readJobFile(file: string): Row[] {
  const text = fs.readFileSync(file, "utf8");
  const rows: Row[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const raw = JSON.parse(line) as Record<string, unknown>;
    for (const [k, v] of Object.entries(raw)) if (k !== "divergedAt") raw[k] = fixNumber(v);
    rows.push(raw as unknown as Row);
  }
  return rows;
}

/** All rows of finished jobs of one protocol (files named `<protocolHash>-*.jsonl`). */
export function readStoredRows(outDir: string, protocol: string): Row[] {
  const dir = runsDir(outDir);
  if (!fs.existsSync(dir)) return [];
  const rows: Row[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (f.startsWith(`${protocol}-`) && f.endsWith(".jsonl")) rows.push(...readJobFile(path.join(dir, f)));
  }
  return rows;
}

/** Ids of runs with a final row. */
export function finishedRuns(rows: readonly Row[]): Set<string> {
  return new Set(rows.filter((r) => r.kind === "final").map((r) => runId(r)));
}
