// Every subcommand, one line each. Command modules live in ./commands/.
import type { Command } from "./command.ts";
import { coordCheckCommand } from "./commands/coord-check.ts";
import { evaluate } from "./commands/evaluate.ts";
import { finetune } from "./commands/finetune.ts";
import { inspect } from "./commands/inspect.ts";
import { reproduce } from "./commands/reproduce.ts";
import { sweep } from "./commands/sweep.ts";

export const commands: Command[] = [coordCheckCommand, evaluate, finetune, inspect, reproduce, sweep];
