// The engine's kernel threads when LORASCOPE_THREADS is not set. The count is fixed when the engine
// loads (engine/threads.ts), so the bin shim applies this before it imports the CLI.
//
// A command that runs one model in one process gets a kernel thread per core, up to 2: measured on
// 2 cores with identical results (bench/NOTES.md, "Threads by command"), `finetune` of stories260K
// ran 1.36× faster, the sentence encoder's 1.1–1.2×, `pretrain` at width 256 1.46×. Everything
// else keeps 1: sweeps and `reproduce` run one single-threaded worker process per core, and
// `generate` (one token per call, dispatch-bound) ran 3.8× slower with 2.
import os from "node:os";

const ONE_MODEL_COMMANDS: ReadonlySet<string> = new Set(["finetune", "pretrain", "evaluate"]);
/** More threads than this were not measured to help. */
const MAX_DEFAULT_THREADS = 2;

/** The LORASCOPE_THREADS value to use for `argv` (the CLI's arguments), or undefined to leave it. */
export function defaultThreads(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cores: number = os.availableParallelism(),
): string | undefined {
  if (env["LORASCOPE_THREADS"] !== undefined) return undefined;
  if (!ONE_MODEL_COMMANDS.has(argv[0] ?? "")) return undefined;
  return String(Math.max(1, Math.min(MAX_DEFAULT_THREADS, cores)));
}

/** Set LORASCOPE_THREADS in this process's environment when `defaultThreads` gives a value. */
export function applyDefaultThreads(argv: readonly string[]): void {
  const threads = defaultThreads(argv, process.env);
  if (threads !== undefined) process.env["LORASCOPE_THREADS"] = threads;
}
