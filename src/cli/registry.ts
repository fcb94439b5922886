// Every subcommand, one line each. Command modules live in ./commands/.
import type { Command } from "./command.ts";
import { convert } from "./commands/convert.ts";
import { coordCheckCommand } from "./commands/coord-check.ts";
import { evaluate } from "./commands/evaluate.ts";
import { finetune } from "./commands/finetune.ts";
import { generate } from "./commands/generate.ts";
import { inspect } from "./commands/inspect.ts";
import { merge } from "./commands/merge.ts";
import { pretrain } from "./commands/pretrain.ts";
import { reproduce } from "./commands/reproduce.ts";
import { sweep } from "./commands/sweep.ts";
import { worker } from "./commands/worker.ts";

export const commands: Command[] = [
  convert, coordCheckCommand, evaluate, finetune, generate, inspect, merge, pretrain, reproduce, sweep, worker,
];
