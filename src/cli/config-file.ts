// `--config FILE`: a run's settings as JSON or YAML, keyed by flag name (what `config.json` in a run's
// output folder holds). The file's schema is built from the command's flag table, the same one that
// parses argv, so the two cannot drift; unknown keys are refused, and flags given on the command line
// override the file (flags.ts resolveFlags).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../core/errors.ts";
import type { FlagSpec, FlagTable, FlagValue } from "./flag-table.ts";

/** The keys a config file may hold: every flag but --config itself. */
export function configKeys(table: FlagTable): string[] {
  return Object.keys(table).filter((k) => k !== "config");
}

type Bounds = { kind: string; min?: number; max?: number; positive?: boolean };

function numberSchema(spec: Bounds, int: boolean): z.ZodNumber {
  let s = z.number({ error: int ? "must be an integer" : "must be a number" });
  if (int) s = s.int({ error: "must be an integer" });
  if (spec.positive === true) s = s.positive({ error: "must be positive" });
  if (spec.min !== undefined) s = s.min(spec.min, { error: `must be at least ${spec.min}` });
  if (spec.max !== undefined) s = s.max(spec.max, { error: `must be at most ${spec.max}` });
  return s;
}

function choiceSchema(choices: readonly string[] | undefined): z.ZodType<string> {
  if (choices === undefined) return z.string({ error: "must be a string" }).min(1, { error: "must not be empty" });
  return z.string({ error: "must be a string" }).refine((v) => choices.includes(v), { error: `must be one of ${choices.join(", ")}` });
}

/** One flag's value in a file: the same kinds and checks as on the command line; lists are arrays. */
function valueSchema(spec: FlagSpec): z.ZodType<FlagValue> {
  const list = <T>(item: z.ZodType<T>) =>
    z
      .array(item, { error: "must be a list" })
      .min(1, { error: "needs at least one value" })
      .refine((xs) => ("repeats" in spec && spec.repeats === true) || new Set(xs).size === xs.length, {
        error: "lists a value more than once; give each value once",
      });
  switch (spec.kind) {
    case "bool":
      return z.boolean({ error: "must be true or false" });
    case "string":
      return choiceSchema(spec.choices);
    case "number":
    case "int":
      return numberSchema(spec, spec.kind === "int");
    case "list":
      return list(choiceSchema(spec.choices));
    case "numlist":
    case "intlist":
      return list(numberSchema(spec, spec.kind === "intlist"));
    default: {
      const never: never = spec;
      throw new Error(`unhandled flag kind ${String(never)}`);
    }
  }
}

/** The zod schema of a command's config file (all keys optional: the file may set only some). */
export function configSchema(table: FlagTable): z.ZodType<Record<string, FlagValue | undefined>> {
  const shape: Record<string, z.ZodOptional<z.ZodType<FlagValue>>> = {};
  for (const key of configKeys(table)) shape[key] = valueSchema(table[key] as FlagSpec).optional();
  return z.strictObject(shape);
}

/** Check parsed file content against the table; one sentence naming the first bad key. */
export function configValues(table: FlagTable, content: unknown, file: string): Map<string, FlagValue> {
  const name = path.basename(file);
  if (typeof content !== "object" || content === null || Array.isArray(content)) {
    throw new UserError(`${name} must hold one mapping of settings (key: value), got ${Array.isArray(content) ? "a list" : typeof content}`);
  }
  const allowed = configKeys(table);
  // Own keys only, checked before zod so that the sentence lists the allowed keys.
  const unknown = Object.keys(content).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new UserError(`${name} has an unknown key "${unknown}"; the allowed keys are ${allowed.join(", ")}`);
  const r = configSchema(table).safeParse(content);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${name}: "${issue?.path.join(".") ?? "?"}" ${issue?.message ?? "is not valid"}`);
  }
  const out = new Map<string, FlagValue>();
  for (const [k, v] of Object.entries(r.data)) if (v !== undefined) out.set(k, v);
  return out;
}

/** The parsed content of a JSON (.json) or YAML (anything else) config file; one sentence if it cannot be read. */
function readContent(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UserError(`cannot read the config file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let content: unknown;
  try {
    content = path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UserError(`${file} is not valid ${path.extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0] ?? ""}`);
  }
  return content;
}

/** Read a JSON (.json) or YAML (anything else) config file and check it against the table. */
export function readConfigFile(table: FlagTable, file: string): Map<string, FlagValue> {
  return configValues(table, readContent(file), file);
}

/** The string under `key` of a JSON or YAML config file, if any (an unreadable file: undefined). */
export function configString(file: string, key: string): string | undefined {
  try {
    const content = readContent(file);
    const m = typeof content === "object" && content !== null ? (content as Record<string, unknown>)[key] : undefined;
    return typeof m === "string" ? m : undefined;
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
}
