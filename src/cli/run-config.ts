// config.json: a run's resolved settings (every flag that shapes the run, defaults filled in, keyed by
// flag name), written next to its output so that `--config OUT/config.json` reruns it.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";

export const CONFIG_FILE = "config.json";

export async function writeRunConfig(outDir: string, settings: Readonly<Record<string, unknown>>): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, CONFIG_FILE);
  await writeFileAtomic(file, JSON.stringify(settings, null, 2) + "\n");
  return file;
}
