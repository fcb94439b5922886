// The sweep store every study writes to: OUT/runs/ holds row files, each written to a temp file and
// renamed (io/atomic.ts), so a file holds a whole finished unit of work or does not exist, and a
// killed sweep loses only the work in flight. What the studies share lives here: where row files
// go, the JSON that keeps NaN and ±Infinity, the settings hash that keeps rows of other settings from
// being reused, and the set of finished runs a resumed sweep skips. Each study names its runs and
// files itself (toy/store.ts, encoder/sweep.ts); their on-disk formats predate this module.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "../io/atomic.ts";
import { finiteJson, parseFiniteJson, type NullFields } from "../io/finite-json.ts";

// The finite-number JSON lives in io (metrics.jsonl in train writes it too); re-exported for the studies.
export { finiteJson, parseFiniteJson, type NullFields };

export function runsDir(outDir: string): string {
  return path.join(outDir, "runs");
}

/** The bytes of a row file: one `finiteJson` row per line (a queued job's result is this text). */
export function rowLines(rows: readonly unknown[]): string {
  return rows.map((r) => finiteJson(r)).join("\n") + "\n";
}

/** Write a row file atomically (synchronous: a worker's last act for a job). */
export function writeRowFileSync(file: string, rows: readonly unknown[]): void {
  writeFileAtomicSync(file, rowLines(rows));
}

/** Write a row file atomically. */
export async function writeRowFile(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFileAtomic(file, rowLines(rows));
}

/**
 * Move a damaged state file aside as `<file>.damaged` (never deleted: it may be worth a look) and say
 * so on stderr; returns the new name. The work it held is redone by the caller.
 */
export function setAside(file: string, why: string): string {
  let dest = `${file}.damaged`;
  for (let i = 1; fs.existsSync(dest); i++) dest = `${file}.damaged.${i}`;
  fs.renameSync(file, dest);
  process.stderr.write(`lorascope: ${file} is damaged (${why}); set aside as ${path.basename(dest)}, its work is redone\n`);
  return dest;
}

/**
 * The rows of one row file. A file that does not parse (cut short by a full disk or a crash of the
 * file system) is set aside and reads as no rows, so its runs are redone.
 */
export function readRowFile<R>(file: string, keepNull: NullFields): R[] {
  const rows: R[] = [];
  const lines = fs.readFileSync(file, "utf8").split("\n");
  try {
    for (const line of lines) {
      if (line.trim() !== "") rows.push(parseFiniteJson(line, keepNull) as R);
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    setAside(file, err.message);
    return [];
  }
  return rows;
}

/** The names of OUT/runs' row files that `wanted` accepts, sorted (none when the folder is absent). */
export function rowFiles(outDir: string, wanted: (name: string) => boolean): string[] {
  const dir = runsDir(outDir);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(wanted).sort();
}

/** The rows of every row file in OUT/runs that `wanted` accepts, in file-name order. */
export function readRowFiles<R>(outDir: string, wanted: (name: string) => boolean, keepNull: NullFields): R[] {
  return rowFiles(outDir, wanted).flatMap((f) => readRowFile<R>(path.join(runsDir(outDir), f), keepNull));
}

/** Ids of the runs among `rows` that are finished (a resumed sweep skips them). */
export function finishedRuns<R>(
  rows: readonly R[],
  idOf: (row: R) => string,
  isFinished: (row: R) => boolean = () => true,
): Set<string> {
  return new Set(rows.filter(isFinished).map(idOf));
}

/** `settings` as JSON with its keys sorted, so equal settings give equal text whatever the key order. */
export function canonicalSettings(settings: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(Object.keys(settings).sort().map((k) => [k, settings[k]]));
}

/** Short stable hash of a sweep's settings (12 hex digits of SHA-256 of `canonicalSettings`). */
export function settingsHash(settings: Readonly<Record<string, unknown>>): string {
  return createHash("sha256").update(canonicalSettings(settings)).digest("hex").slice(0, 12);
}
