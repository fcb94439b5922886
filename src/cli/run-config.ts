// config.json: a run's resolved settings (every flag that shapes the run, defaults filled in, keyed by
// flag name), written next to its output so that `--config OUT/config.json` reruns it.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { FlagValue } from "./flag-table.ts";

export const CONFIG_FILE = "config.json";

export async function writeRunConfig(outDir: string, settings: Readonly<Record<string, unknown>>): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, CONFIG_FILE);
  await writeFileAtomic(file, JSON.stringify(settings, null, 2) + "\n");
  return file;
}

/** Flags a resumed run may still give: they say how it is shown and saved, not what it computes. */
const RESUME_FLAGS = ["resume", "json", "checkpoint-every"];

/**
 * `--resume OUT`: OUT, once checked to hold the run's settings file (`settingsFile`, written by
 * `command`); undefined without --resume. A resumed run is the interrupted one, so any other
 * setting on the command line is refused.
 */
export function resumedRun(
  given: ReadonlyMap<string, FlagValue>,
  settingsFile: string,
  command: string,
): string | undefined {
  const dir = given.get("resume");
  if (typeof dir !== "string") return undefined;
  const file = path.join(dir, settingsFile);
  const extra = [...given.keys()].filter((f) => !RESUME_FLAGS.includes(f));
  if (extra.length > 0) throw new UserError(`--resume takes every setting from ${file}; drop --${extra[0] as string}`);
  if (!existsSync(file)) throw new UserError(`${dir} has no ${settingsFile}; --resume needs the --out folder of a ${command}`);
  return dir;
}
