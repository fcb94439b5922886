// argv → subcommand. The only place that turns errors into exit codes: a UserError prints its one
// sentence; anything else is a bug in lorascope and prints its stack (or only its message unless
// LORASCOPE_DEBUG is set).
import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.ts";
import type { Command } from "./command.ts";
import { commands } from "./registry.ts";

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "lorascope — LoRA finetuning where the adapter's initialization is a measured choice.",
    "",
    "Usage: lorascope <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `lorascope <command> --help` for a command's options.",
  ].join("\n");
}

/** The version in package.json, two folders up from both src/cli/main.ts and dist/cli/main.js. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    process.stdout.write(`lorascope ${version()}\n`);
    return 0;
  }
  const cmd: Command | undefined = commands.find((c) => c.name === name);
  if (cmd === undefined) {
    process.stderr.write(
      `lorascope: unknown command "${name}"; the commands are ${commands.map((c) => c.name).join(", ")}.\n`,
    );
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(cmd.help.trimEnd() + "\n");
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`lorascope ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(
      `lorascope ${name}: internal error: ${e.message}\n` +
        (process.env["LORASCOPE_DEBUG"] ? `${e.stack ?? ""}\n` : "(set LORASCOPE_DEBUG=1 for the stack)\n"),
    );
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  process.exitCode = await main(process.argv.slice(2));
}
