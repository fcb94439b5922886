// Run the CLI from the sources (`node --import tsx src/cli/main.ts …`, what `node bin/lorascope.js …`
// runs once built; test/package.test.ts covers the built shim) and collect its exit code and output.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

/** Node arguments that start the CLI's sources from any current directory; append the CLI's own. */
export const CLI_ARGS: readonly string[] = [
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
  path.resolve(import.meta.dirname, "../../src/cli/main.ts"),
];

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function lorascope(...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...CLI_ARGS, ...args], {
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
