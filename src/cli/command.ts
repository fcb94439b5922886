/** One CLI subcommand: argv (after the subcommand name) in, exit code out. */
export interface Command {
  readonly name: string;
  /** One line for `lorascope --help`. */
  readonly summary: string;
  /** Full help text for `lorascope <name> --help`. */
  readonly help: string;
  run(argv: string[]): Promise<number>;
}
