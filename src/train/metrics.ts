// OUT/metrics.jsonl: the sink every training run writes its records to, one JSON object per line —
// per step {step, loss, lr, gradNorm}, per evaluation {step, valid: {...}}, per measurement of the
// LoRA dynamics {step, dynamics: [...]}. Each line goes out in one write() on a file opened for
// appending, so a reader tailing the file sees whole lines, and a run killed between two steps
// leaves only whole lines. NaN and ±Infinity are kept (io/finite-json.ts).
//
// A resumed run reopens the file at its checkpoint's step: records after that step (written by the
// interrupted run after its last checkpoint) are dropped, so the file of a resumed run reads the
// same as that of an uninterrupted one.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../io/atomic.ts";
import { finiteJson, parseFiniteJson } from "../io/finite-json.ts";

export const METRICS_FILE = "metrics.jsonl";

/** One line of metrics.jsonl: always a step, then what was measured at it. */
export type MetricsRecord = { readonly step: number } & Readonly<Record<string, unknown>>;

export interface MetricsSink {
  write(record: MetricsRecord): void;
  close(): void;
}

/** A sink that drops everything (runs without an output folder). */
export const nullSink: MetricsSink = { write: () => {}, close: () => {} };

/** The records of a metrics file; a last line without its newline (a write cut short) is ignored. */
export function readMetrics(file: string): MetricsRecord[] {
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  lines.pop(); // "" after the final newline, or an unfinished last line
  // Every null in a metrics record is a NaN written by finiteJson (no field is null otherwise).
  return lines.filter((l) => l.trim() !== "").map((l) => parseFiniteJson(l, new Set()) as MetricsRecord);
}

/**
 * Open OUT/metrics.jsonl for appending. Fresh runs start an empty file; `resumeAt` keeps the
 * records of steps ≤ resumeAt already in the file and drops the rest.
 */
export function openMetrics(outDir: string, opts: { resumeAt?: number } = {}): MetricsSink {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, METRICS_FILE);
  if (opts.resumeAt === undefined) writeFileAtomicSync(file, "");
  else {
    const at = opts.resumeAt;
    const kept = fs.existsSync(file) ? readMetrics(file).filter((r) => r.step <= at) : [];
    writeFileAtomicSync(file, kept.map((r) => finiteJson(r) + "\n").join(""));
  }
  const fd = fs.openSync(file, "a");
  let open = true;
  return {
    write(record) {
      if (!open) throw new Error("metrics sink: write after close");
      fs.writeSync(fd, finiteJson(record) + "\n"); // one write per line: never half a line on disk
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
