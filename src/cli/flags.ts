// One typed table of flags per command; argv → values is a pure function (tested in test/cli).
import { UserError } from "../core/errors.ts";

export type FlagKind = "string" | "number" | "int" | "bool" | "list" | "numlist" | "intlist";

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** For enumerated strings (or list items): the allowed values. */
  readonly choices?: readonly string[];
  /** Shown in help; not applied here (defaults live in the config the flags override). */
  readonly defaultText?: string;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

export type FlagValue = string | number | boolean | string[] | number[];

export interface Parsed {
  /** Flags that were given, by name (without the leading dashes). */
  readonly flags: Record<string, FlagValue>;
  /** Positional arguments in order. */
  readonly positional: string[];
}

function parseNumber(name: string, raw: string, int: boolean): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (int && !Number.isInteger(v))) {
    throw new UserError(`--${name} must be ${int ? "an integer" : "a number"}, got "${raw}"`);
  }
  return v;
}

function checkChoice(name: string, spec: FlagSpec, v: string): string {
  if (spec.choices !== undefined && !spec.choices.includes(v)) {
    throw new UserError(`--${name} got "${v}"; allowed values are ${spec.choices.join(", ")}`);
  }
  return v;
}

/** Parse `--name value`, `--name=value` and bare `--flag` (bool) against a table. */
export function parseFlags(table: FlagTable, argv: readonly string[]): Parsed {
  const flags: Record<string, FlagValue> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = table[name];
    if (spec === undefined) {
      const known = Object.keys(table).map((k) => `--${k}`).join(", ");
      throw new UserError(`unknown flag --${name}; the flags are ${known}`);
    }
    if (spec.kind === "bool") {
      if (eq !== -1) {
        const raw = arg.slice(eq + 1);
        if (raw !== "true" && raw !== "false") throw new UserError(`--${name} takes no value or true/false`);
        flags[name] = raw === "true";
      } else flags[name] = true;
      continue;
    }
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UserError(`--${name} needs a value (${spec.help})`);
      raw = next;
      i++;
    }
    switch (spec.kind) {
      case "string":
        flags[name] = checkChoice(name, spec, raw);
        break;
      case "number":
        flags[name] = parseNumber(name, raw, false);
        break;
      case "int":
        flags[name] = parseNumber(name, raw, true);
        break;
      case "list": {
        const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (items.length === 0) throw new UserError(`--${name} needs at least one value`);
        flags[name] = items.map((s) => checkChoice(name, spec, s));
        break;
      }
      case "numlist":
      case "intlist": {
        const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (items.length === 0) throw new UserError(`--${name} needs at least one value`);
        flags[name] = items.map((s) => parseNumber(name, s, spec.kind === "intlist"));
        break;
      }
      default: {
        const never: never = spec.kind;
        throw new Error(`unhandled flag kind ${String(never)}`);
      }
    }
  }
  return { flags, positional };
}

/** Help text for a flag table. */
export function flagHelp(table: FlagTable): string {
  const rows = Object.entries(table).map(([name, s]) => {
    const value = s.kind === "bool" ? "" : ` <${s.choices ? s.choices.join("|") : s.kind}>`;
    const def = s.defaultText === undefined ? "" : ` (default: ${s.defaultText})`;
    return [`  --${name}${value}`, `${s.help}${def}`] as const;
  });
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `${a.padEnd(width)}  ${b}`).join("\n");
}
