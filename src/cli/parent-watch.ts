// Leave when the parent goes away. Killing a wrapper (npx, a shell script) does not kill its child,
// and a sweep left running would keep its output folder's lock and the machine busy. When this
// process is re-parented (its parent pid changes) it stops as on SIGTERM, whose handler says how many
// runs are saved. Two watchers: a timer on the main thread, enough while the command's event loop
// is free (a sweep on worker processes, the checks before a run); and, once a run starts, a watchdog
// thread, which keeps watching while the run holds the main thread without yielding (`--workers 0`,
// where training runs here). If the SIGTERM handler gets no turn within a grace period, the
// watchdog says so on stderr and ends the process with SIGKILL: finished runs are on disk already
// (written atomically), so only the run in flight is lost, as on any kill.
import { Worker } from "node:worker_threads";

const CHECK_MS = 1000;
const GRACE_MS = 3000;

/** The parent pid being watched, once exitWithParent has armed the watchers. */
let watched: number | undefined;

/** Watch the parent from the main thread's event loop (cheap; every command, from the start). */
export function exitWithParent(): void {
  const parent = process.ppid;
  watched = parent;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      process.kill(process.pid, "SIGTERM");
    }
  }, CHECK_MS);
  timer.unref();
}

// The watchdog thread's code, plain JavaScript run with `eval` so it needs no module file in either the
// sources or the build. workerData: {parent, checkMs, graceMs, message}.
const WATCHDOG = `
const { workerData: w } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const timer = setInterval(() => {
  if (process.ppid === w.parent) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => {
    try { writeSync(2, w.message); } catch { /* the parent's pipe may be gone */ }
    process.kill(process.pid, "SIGKILL");
  }, w.graceMs);
}, w.checkMs);
`;

/**
 * Once a command's run starts: watch the parent from a thread of its own as well, so that a run that
 * holds the main thread still stops when the parent goes away. Only when exitWithParent armed the
 * watchers (the installed CLI), so that main() called in-process starts no thread.
 */
export function watchParentWhileRunning(command: string): void {
  if (watched === undefined) return;
  const message =
    `\nlorascope ${command}: its parent process went away; stopping. Finished runs are saved; ` +
    "run the same command again to resume.\n";
  const workerData = { parent: watched, checkMs: CHECK_MS, graceMs: GRACE_MS, message };
  const worker = new Worker(WATCHDOG, { eval: true, workerData });
  worker.unref();
}
