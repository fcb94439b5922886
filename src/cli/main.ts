// argv → subcommand. The only place that turns errors into exit codes:
//   0  success
//   1  the run failed: a UserError raised while running prints its one sentence; anything else is a
//      bug in lorascope and prints its message (its stack with LORASCOPE_DEBUG set)
//   2  a usage error: the command line or a --config file is wrong, found before anything ran
//   130, 143  interrupted by SIGINT, SIGTERM (cli/interrupt.ts)
import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.ts";
import { actionOf, fsErrorSentence, isFsError } from "../io/fs-errors.ts";
import type { Command } from "./command.ts";
import { commands } from "./registry.ts";
import { HELP_WIDTH, wrap } from "./wrap.ts";
import { exitWithParent, watchParentWhileRunning } from "./parent-watch.ts";

export { exitWithParent };

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The version in package.json, read rather than repeated. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "lorascope — LoRA finetuning where the adapter's initialization is a measured choice.",
    "",
    "Usage: lorascope <command> [options]",
    "       lorascope help <command>    (the same as lorascope <command> --help)",
    "       lorascope --version",
    "",
    "Commands:",
    ...commands.flatMap((c) => wrap(c.summary, HELP_WIDTH, width + 4, `  ${c.name.padEnd(width)}  `)),
    "",
    "Run `lorascope <command> --help` for a command's options.",
  ].join("\n");
}

function unknownCommand(name: string): number {
  process.stderr.write(`lorascope: unknown command "${name}"; the commands are ${commands.map((c) => c.name).join(", ")}.\n`);
  return EXIT.usage;
}

/** `--help` or `-h` among the flags (not after `--`, where it is an argument). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

const find = (name: string): Command | undefined => commands.find((c) => c.name === name);

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage() + "\n");
    return EXIT.usage;
  }
  if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    process.stdout.write(usage() + "\n");
    return EXIT.ok;
  }
  if (name === "--version") {
    process.stdout.write(`lorascope ${version()}\n`);
    return EXIT.ok;
  }
  if (name === "help") {
    if (rest.length > 1) {
      process.stderr.write("lorascope help: give one command, e.g. lorascope help sweep\n");
      return EXIT.usage;
    }
    const cmd = find(rest[0] as string);
    if (cmd === undefined) return unknownCommand(rest[0] as string);
    process.stdout.write(cmd.help().trimEnd() + "\n");
    return EXIT.ok;
  }
  const cmd = find(name);
  if (cmd === undefined) return unknownCommand(name);
  if (wantsHelp(rest)) {
    process.stdout.write(cmd.help().trimEnd() + "\n");
    return EXIT.ok;
  }
  let run: () => Promise<number>;
  try {
    run = await cmd.prepare(rest);
  } catch (err) {
    if (!(err instanceof UserError)) return internalError(name, err);
    process.stderr.write(`lorascope ${name}: ${err.message}\n`);
    return EXIT.usage;
  }
  try {
    watchParentWhileRunning(name);
    return await run();
  } catch (err) {
    if (!(err instanceof UserError)) return internalError(name, err);
    process.stderr.write(`lorascope ${name}: ${err.message}\n`);
    return EXIT.failed;
  }
}

function internalError(name: string, err: unknown): number {
  // A filesystem error (disk full, read-only, permission) is the machine's state, not a bug: one sentence.
  if (isFsError(err)) {
    process.stderr.write(`lorascope ${name}: ${fsErrorSentence(err, err.path, actionOf(err.syscall))}\n`);
    return EXIT.failed;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(
    `lorascope ${name}: internal error: ${e.message}\n` +
      (process.env["LORASCOPE_DEBUG"] ? `${e.stack ?? ""}\n` : "(set LORASCOPE_DEBUG=1 for the stack)\n"),
  );
  return EXIT.failed;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  exitWithParent();
  process.exitCode = await main(process.argv.slice(2));
}
