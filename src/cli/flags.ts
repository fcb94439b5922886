// One typed table of flags per command; parsing, validation, defaults, `--help` and the --config
// schema (config-file.ts) all come from it. argv → values is a pure function (test/cli-flags.test.ts).
//
// Conventions: `--name value`, `--name=value`, one-letter `-o value` where a flag has `short`,
// `--flag` / `--no-flag` for booleans, `--` ends the flags. A flag given twice is an error rather
// than "last one wins". Names are looked up in Maps, never on plain objects, so `--constructor` or
// `--__proto__` are unknown flags like any other.
import path from "node:path";
import { parseArgs } from "node:util";
import { UserError } from "../core/errors.ts";
import type { FlagSpec, FlagTable, FlagValue, FlagValues, NumberFlag, NumListFlag, Parsed } from "./flag-table.ts";

export type { FlagSpec, FlagTable, FlagValue, FlagValues, Parsed } from "./flag-table.ts";

const entries = (table: FlagTable): Array<[string, FlagSpec]> => Object.entries(table);

function knownFlags(table: FlagTable): string {
  return entries(table).map(([n]) => `--${n}`).join(", ");
}

function parseNumber(name: string, raw: string, int: boolean): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (int && !Number.isInteger(v))) {
    throw new UserError(`--${name} must be ${int ? "an integer" : "a number"}, got "${raw}"`);
  }
  return v;
}

/** The range checks a number flag (or each item of a number list) carries; shared with config files. */
export function checkRange(name: string, spec: NumberFlag | NumListFlag, v: number): number {
  if (spec.positive === true && !(v > 0)) throw new UserError(`--${name} must be positive, got ${v}`);
  if (spec.min !== undefined && v < spec.min) throw new UserError(`--${name} must be at least ${spec.min}, got ${v}`);
  if (spec.max !== undefined && v > spec.max) throw new UserError(`--${name} must be at most ${spec.max}, got ${v}`);
  return v;
}

/** A list flag's values, refused when one repeats (unless the table allows it); shared with config files. */
export function checkRepeats<V extends string | number>(
  name: string,
  spec: { repeats?: boolean },
  items: readonly V[],
): V[] {
  if (spec.repeats !== true) {
    const seen = new Set<V>();
    for (const v of items) {
      if (seen.has(v)) throw new UserError(`--${name} lists ${v} more than once; give each value once`);
      seen.add(v);
    }
  }
  return [...items];
}

function checkChoice(name: string, choices: readonly string[] | undefined, v: string): string {
  if (choices !== undefined && !choices.includes(v)) {
    throw new UserError(`--${name} "${v}" is not known; use one of ${choices.join(", ")}`);
  }
  return v;
}

function listItems(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new UserError(`--${name} needs at least one value`);
  return items;
}

/** One flag's text from argv → its typed, checked value. */
export function convert(name: string, spec: FlagSpec, raw: string): FlagValue {
  switch (spec.kind) {
    case "bool":
      if (raw !== "true" && raw !== "false") throw new UserError(`--${name} takes no value (or true/false); use --no-${name} to turn it off`);
      return raw === "true";
    case "string":
      // An empty value is never meant: `--out ''` would otherwise mean the current directory.
      if (raw.trim() === "") throw new UserError(`--${name} is empty; give it a value (${spec.help})`);
      return checkChoice(name, spec.choices, raw);
    case "number":
    case "int":
      return checkRange(name, spec, parseNumber(name, raw, spec.kind === "int"));
    case "list":
      return checkRepeats(name, spec, listItems(name, raw).map((s) => checkChoice(name, spec.choices, s)));
    case "numlist":
    case "intlist":
      return checkRepeats(name, spec, listItems(name, raw).map((s) => checkRange(name, spec, parseNumber(name, s, spec.kind === "intlist"))));
    default: {
      const never: never = spec;
      throw new Error(`unhandled flag kind ${String(never)}`);
    }
  }
}

/** The flags given in argv (checked and typed, no defaults) and the positional arguments. */
export function parseArgv(
  table: FlagTable,
  argv: readonly string[],
): { given: Map<string, FlagValue>; positional: string[] } {
  const specs = new Map(entries(table));
  const byShort = new Map<string, string>();
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = Object.create(null) as Record<string, never>;
  for (const [name, spec] of specs) {
    options[name] = { type: spec.kind === "bool" ? "boolean" : "string", ...(spec.short === undefined ? {} : { short: spec.short }) };
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }
  // strict: false lets unknown flags through as tokens, so that they get this module's one sentence.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const given = new Map<string, FlagValue>();
  const positional: string[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") {
      positional.push(t.value);
      continue;
    }
    if (t.kind === "option-terminator") continue;
    // parseArgs names a known short flag by its long name; an unknown one by its letter.
    let name = t.rawName.startsWith("--") ? t.name : byShort.get(t.rawName.slice(1));
    let negated = false;
    if (name !== undefined && !specs.has(name) && name.startsWith("no-") && specs.get(name.slice(3))?.kind === "bool") {
      name = name.slice(3);
      negated = true;
    }
    const spec = name === undefined ? undefined : specs.get(name);
    if (name === undefined || spec === undefined) throw new UserError(`unknown flag ${t.rawName}; the flags are ${knownFlags(table)}`);
    if (given.has(name)) throw new UserError(`--${name} was given more than once; give it once`);
    if (negated) {
      if (t.value !== undefined) throw new UserError(`--no-${name} takes no value`);
      given.set(name, false);
    } else if (spec.kind === "bool") {
      given.set(name, t.value === undefined ? true : convert(name, spec, t.value));
    } else {
      if (t.value === undefined) throw new UserError(`${t.rawName} needs a value (${spec.help})`);
      given.set(name, convert(name, spec, t.value));
    }
  }
  return { given, positional };
}

/**
 * Values for every flag: the command line over `file` (a --config file's values) over the table's
 * defaults; a required flag missing from both is one sentence.
 */
export function resolveFlags<T extends FlagTable>(
  table: T,
  given: ReadonlyMap<string, FlagValue>,
  positional: readonly string[],
  file: ReadonlyMap<string, FlagValue> = new Map(),
): Parsed<T> {
  const values: Record<string, FlagValue | undefined> = Object.create(null) as Record<string, never>;
  const set = new Set<string>();
  for (const [name, spec] of entries(table)) {
    const v = given.get(name) ?? file.get(name);
    if (v !== undefined) set.add(name);
    const value = v ?? spec.default ?? (spec.kind === "bool" ? false : undefined);
    if (value === undefined && "required" in spec && spec.required === true) {
      const choices = spec.kind === "string" && spec.choices !== undefined ? `; use one of ${spec.choices.join(", ")}` : "";
      throw new UserError(`--${name} is required${choices}`);
    }
    values[name] = value;
  }
  return { values: values as FlagValues<T>, positional, given: set };
}

/** argv → values, with --config FILE read when the table has a `config` flag and it is given. */
export async function parseFlags<T extends FlagTable>(table: T, argv: readonly string[]): Promise<Parsed<T>> {
  const { given, positional } = parseArgv(table, argv);
  const file = given.get("config");
  if (typeof file !== "string") return resolveFlags(table, given, positional);
  // Loaded only here: zod and yaml are not needed for --help or for runs without a config file.
  const { readConfigFile } = await import("./config-file.ts");
  return resolveFlags(table, given, positional, readConfigFile(table, file));
}

/** The settings (flags with `setting` not false) and their values, in table order: config.json. */
export function settingsOf<T extends FlagTable>(table: T, values: FlagValues<T>): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  const vals = values as Readonly<Record<string, FlagValue | undefined>>;
  for (const [name, spec] of entries(table)) {
    const v = vals[name];
    if (spec.setting !== false && v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * The value of `--<flag>` in argv (before `--`), else the `<flag>` key of a --config file (JSON or
 * YAML), else undefined: what decides a command's form before its table is chosen. With `resume`,
 * `--resume OUT` names OUT/config.json as the config file (a resumed run's settings).
 */
export async function settingOf(
  argv: readonly string[],
  flag: string,
  opts: { resume?: boolean } = {},
): Promise<string | undefined> {
  const end = argv.indexOf("--");
  const args = end === -1 ? argv : argv.slice(0, end);
  let config: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${flag}`) return args[i + 1];
    if (a.startsWith(`--${flag}=`)) return a.slice(`--${flag}=`.length);
    if (a === "--config" || a === "-c") config = args[i + 1];
    else if (a.startsWith("--config=")) config = a.slice("--config=".length);
    else if (opts.resume === true && config === undefined) {
      if (a === "--resume" && args[i + 1] !== undefined) config = path.join(args[i + 1] as string, "config.json");
      else if (a.startsWith("--resume=")) config = path.join(a.slice("--resume=".length), "config.json");
    }
  }
  if (config === undefined) return undefined;
  // Loaded only here: yaml is not needed for runs without a config file.
  const { configString } = await import("./config-file.ts");
  return configString(config, flag);
}
