// The user's own classification data: a folder with train.jsonl, valid.jsonl and test.jsonl, one
// {"text": "...", "label": ...} object per line (blank lines skipped). Labels may be strings or
// numbers; the class list is the training split's labels in sorted order (numerically when every
// label is a number, else by code point), so reordering a file does not renumber the classes. A
// label in valid.jsonl or test.jsonl that training never shows is an error naming it and its line:
// the head has no output for it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import type { TextExample } from "./text-dataset.ts";

export const DATA_FILES = { train: "train.jsonl", validation: "valid.jsonl", test: "test.jsonl" } as const;

export interface LabelledSplits {
  readonly name: string;
  /** Class names; example.label indexes this list. */
  readonly labels: readonly string[];
  readonly train: readonly TextExample[];
  readonly validation: readonly TextExample[];
  readonly test: readonly TextExample[];
}

interface Row {
  readonly text: string;
  readonly label: string | number;
  readonly line: number;
}

function readRows(file: string): Row[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `${file} does not exist; --data needs train.jsonl, valid.jsonl and test.jsonl` : `cannot read ${file} (${code ?? String(err)})`);
  }
  const rows: Row[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new UserError(`${file}:${line} is not valid JSON; each line must be {"text": "...", "label": ...}`);
    }
    const o = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    const t = o?.["text"];
    const l = o?.["label"];
    if (typeof t !== "string" || t.trim() === "") throw new UserError(`${file}:${line} needs a non-empty string "text"`);
    if (!(typeof l === "string" || (typeof l === "number" && Number.isFinite(l)))) {
      throw new UserError(`${file}:${line} needs a "label" that is a string or a number`);
    }
    rows.push({ text: t, label: l, line });
  });
  if (rows.length === 0) throw new UserError(`${file} holds no examples; give it one {"text": ..., "label": ...} object per line`);
  return rows;
}

/** The sorted class list of the training rows. */
function classList(rows: readonly Row[]): string[] {
  const seen = [...new Map(rows.map((r) => [String(r.label), r.label])).values()];
  const numeric = seen.every((l) => typeof l === "number");
  const sorted = numeric ? (seen).sort((a, b) => a - b) : seen.map(String).sort();
  return sorted.map(String);
}

/** Read DIR's three splits; every problem with the files is one sentence naming the file and line. */
export function loadLabelledJsonl(dir: string): LabelledSplits {
  const read = (split: keyof typeof DATA_FILES): { file: string; rows: Row[] } => {
    const file = path.join(dir, DATA_FILES[split]);
    return { file, rows: readRows(file) };
  };
  const train = read("train");
  const labels = classList(train.rows);
  if (labels.length < 2) throw new UserError(`${train.file} has only one label (${labels[0] ?? ""}); a classifier needs at least two`);
  const index = new Map(labels.map((l, i) => [l, i]));
  const examples = ({ file, rows }: { file: string; rows: Row[] }): TextExample[] =>
    rows.map((r) => {
      const label = index.get(String(r.label));
      if (label === undefined) {
        throw new UserError(`${file}:${r.line} has the label ${JSON.stringify(r.label)}, which ${DATA_FILES.train} never uses; the labels are ${labels.join(", ")}`);
      }
      return { text: r.text, label, source: path.basename(file) };
    });
  return {
    name: path.basename(path.resolve(dir)),
    labels,
    train: examples(train),
    validation: examples(read("validation")),
    test: examples(read("test")),
  };
}
