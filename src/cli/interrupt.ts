// Ctrl-C or kill during a long command: what is finished is already on disk (rows written
// atomically, checkpoints replaced atomically) and the work in flight is dropped, so say what is kept
// in one line and leave with the shell's code for the signal, 128 + its number: 130 for SIGINT, 143
// for SIGTERM. The worker pool's exit hook stops the workers. Training loops yield to the event loop
// between steps (train/loop.ts), so the handler runs within one step.
import path from "node:path";

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Install SIGINT/SIGTERM handlers; `kept` says, at the moment of the signal, what is saved and how to resume. */
export function exitOnSignal(command: string, kept: () => string): void {
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES): void => {
    process.stderr.write(`\nlorascope ${command}: interrupted (${signal}); ${kept()}\n`);
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

/** The sentence of a resumable sweep writing its rows to `out`/runs: how many runs are saved. */
export function exitOnInterrupt(command: string, out: string, progress: () => { saved: number; total: number }): void {
  exitOnSignal(command, () => {
    const { saved, total } = progress();
    return `${saved} of ${total} runs are saved in ${path.join(out, "runs")}; run the same command again to resume.`;
  });
}
