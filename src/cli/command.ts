/**
 * One CLI subcommand. `prepare` turns argv into a run ready to start: everything that can be wrong
 * with the command line (or a --config file) is found there, before anything runs, and is a usage
 * error (exit 2); a failure while running is exit 1. Command modules import no engine, model or
 * figure code at load time, so that `--help` and usage errors answer at once.
 */
export interface Command {
  readonly name: string;
  /** One line for `lorascope --help`. */
  readonly summary: string;
  /** Full help text for `lorascope <name> --help`. */
  help(): string;
  prepare(argv: readonly string[]): Promise<() => Promise<number>>;
}
