// The toy sweep's files in the sweep store (../store.ts): OUT/spec.json, and
// OUT/runs/<protocol hash>-<job>.jsonl, one row per line (rows.ts) for every run of one finished job.
// The protocol hash in the name keeps rows of several protocols apart in one folder.
import fs from "node:fs";
import path from "node:path";
import { finishedRuns, readRowFile, readRowFiles, runsDir, writeRowFileSync, type NullFields } from "../store.ts";
import { runId, type Row } from "./rows.ts";

/** A final row's `divergedAt` is null for a run that never diverged; every other null is a NaN. */
const KEEP_NULL: NullFields = new Set(["divergedAt"]);

export function writeJobFile(file: string, rows: readonly Row[]): void {
  writeRowFileSync(file, rows);
}

export function readJobFile(file: string): Row[] {
  return readRowFile<Row>(file, KEEP_NULL);
}

const ofProtocol = (protocol: string) => (f: string) => f.startsWith(`${protocol}-`) && f.endsWith(".jsonl");

/** All rows of finished jobs of one protocol. */
export function readStoredRows(outDir: string, protocol: string): Row[] {
  return readRowFiles<Row>(outDir, ofProtocol(protocol), KEEP_NULL);
}

/** Ids of runs with a final row. */
export function finishedToyRuns(rows: readonly Row[]): Set<string> {
  return finishedRuns(rows, runId, (r) => r.kind === "final");
}

/** Rewrite this protocol's job files without the rows of `ids` (a file left empty is removed). */
export function dropRuns(outDir: string, protocol: string, ids: ReadonlySet<string>): void {
  for (const f of fs.readdirSync(runsDir(outDir)).filter(ofProtocol(protocol))) {
    const file = path.join(runsDir(outDir), f);
    const rows = readJobFile(file);
    const kept = rows.filter((r) => !ids.has(runId(r)));
    if (kept.length === rows.length) continue;
    if (kept.length === 0) fs.rmSync(file);
    else writeJobFile(file, kept);
  }
}
