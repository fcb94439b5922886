// `--help` text from a command's flag table: usage line, the paragraphs that say what it does, and
// one row per flag with its default, all wrapped to HELP_WIDTH columns.
import type { FlagSpec, FlagTable } from "./flag-table.ts";
import { HELP_WIDTH, wrap } from "./wrap.ts";

/** Descriptions start at most this far right; a longer flag column puts its description below. */
const MAX_FLAG_COLUMN = 34;

function valueName(spec: FlagSpec): string {
  if (spec.kind === "bool") return "";
  if (spec.value !== undefined) return ` <${spec.value}>`;
  switch (spec.kind) {
    case "string":
      return spec.choices === undefined ? " <text>" : ` <${spec.choices.join("|")}>`;
    case "number":
      return " <number>";
    case "int":
      return " <int>";
    case "list":
      return spec.choices === undefined ? " <a,b,…>" : ` <${spec.choices.join("|")},…>`;
    case "numlist":
      return " <number,…>";
    case "intlist":
      return " <int,…>";
  }
}

/** The default as help shows it: the table's value (lists comma-joined), else its `defaultText`. */
export function defaultShown(spec: FlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (d === undefined || d === false) return undefined;
  return Array.isArray(d) ? d.join(",") : String(d);
}

/** One row per flag (plus -h, --help), descriptions aligned and wrapped. */
export function flagHelp(table: FlagTable, width = HELP_WIDTH): string {
  const rows: Array<[string, string]> = Object.entries(table).map(([name, spec]) => {
    const left = `  ${spec.short === undefined ? "    " : `-${spec.short}, `}--${name}${valueName(spec)}`;
    const def = defaultShown(spec);
    const req = "required" in spec && spec.required === true ? " (required)" : "";
    return [left, `${spec.help}${req}${def === undefined ? "" : ` (default: ${def})`}`];
  });
  rows.push(["  -h, --help", "print this help"]);
  const col = Math.min(MAX_FLAG_COLUMN, Math.max(...rows.map(([l]) => l.length))) + 2;
  return rows
    .flatMap(([left, text]) =>
      left.length + 2 <= col ? wrap(text, width, col, left.padEnd(col)) : [left, ...wrap(text, width, col)],
    )
    .join("\n");
}

/** A command's whole help text. */
export function commandHelp(usage: string, about: readonly string[], table: FlagTable, width = HELP_WIDTH): string {
  return [
    ...wrap(usage, width, 4, ""),
    "",
    ...about.flatMap((p, i) => [...(i > 0 ? [""] : []), ...wrap(p, width)]),
    "",
    "Options:",
    flagHelp(table, width),
    "",
    ...wrap("Boolean flags also take --no-<flag>; `--` ends the flags. Exit codes: 0 success, 1 the run failed, 2 a usage error (nothing ran), 130/143 interrupted by SIGINT/SIGTERM.", width),
  ].join("\n");
}
