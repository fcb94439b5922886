// Every subcommand, one line each. Command modules live in ./commands/.
import type { Command } from "./command.ts";

export const commands: Command[] = [];
