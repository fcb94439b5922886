// Ctrl-C or kill during a sweep: the finished runs are already on disk (written atomically) and the
// ones in flight are dropped, so say that in one line and leave with the shell's code for the signal,
// 128 + its number: 130 for SIGINT, 143 for SIGTERM. The worker pool's exit hook stops the workers.
import path from "node:path";

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Install SIGINT/SIGTERM handlers for a resumable sweep writing its rows to `out`/runs; `progress`
 * tells how many of how many runs are saved at the moment of the signal.
 */
export function exitOnInterrupt(command: string, out: string, progress: () => { saved: number; total: number }): void {
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES): void => {
    const { saved, total } = progress();
    process.stderr.write(
      `\nlorascope ${command}: interrupted (${signal}); ${saved} of ${total} runs are saved in ${path.join(out, "runs")}; ` +
        "run the same command again to resume.\n",
    );
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}
