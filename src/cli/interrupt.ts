// Ctrl-C or kill during a sweep: the finished runs are already on disk (written atomically) and the
// ones in flight are dropped, so say that in one line and leave with the conventional 130. The worker
// pool's exit hook stops the workers.
import path from "node:path";

/**
 * Install SIGINT/SIGTERM handlers for a resumable sweep writing its rows to `out`/runs; `progress`
 * tells how many of how many runs are saved at the moment of the signal.
 */
export function exitOnInterrupt(command: string, out: string, progress: () => { saved: number; total: number }): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const { saved, total } = progress();
    process.stderr.write(
      `\nlorascope ${command}: interrupted (${signal}); ${saved} of ${total} runs are saved in ${path.join(out, "runs")}; ` +
        "run the same command again to resume.\n",
    );
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}
