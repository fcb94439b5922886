// Child-process entry of the sweep runner: one single-threaded engine per process (measured faster
// than intra-op threads on this class of machine, docs engine notes), jobs received over IPC. Each
// job's rows are written to a temp file and renamed into place, so a kill loses only jobs in flight.
// With `stateOut` set, the job's replay files (toy-state.ts) are written first, then its rows: a
// job whose rows exist therefore has its replay files too.
import { initEngine } from "../engine/index.ts";
import { runToyJob, type ToyJob } from "./toy-job.ts";
import { writeToyJobState } from "./toy-state.ts";
import { writeJobFile } from "./toy-store.ts";
import type { ToySpec } from "./toy-spec.ts";

export type ToWorker =
  | {
      readonly type: "job";
      readonly spec: ToySpec;
      readonly job: ToyJob;
      readonly file: string;
      /** Output folder to write replay files under (`--save-state`), or null. */
      readonly stateOut: string | null;
    }
  | { readonly type: "exit" };
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly fraction: number }
  | { readonly type: "done"; readonly file: string }
  | { readonly type: "error"; readonly message: string };

function send(m: FromWorker): void {
  // The parent may be gone (killed, interrupted): then there is nobody to tell.
  if (process.connected) process.send?.(m);
}

async function serve(): Promise<void> {
  await initEngine({ threads: 1 });
  // When the sweep's parent process goes away, the job in flight is abandoned (its rows were never
  // renamed into place, so a rerun redoes it) and this worker leaves quietly.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToWorker) => {
    if (m.type === "exit") {
      process.disconnect?.();
      return;
    }
    let last = 0;
    runToyJob(m.spec, m.job, (fraction) => {
      const now = performance.now();
      if (now - last > 250) {
        last = now;
        send({ type: "progress", fraction });
      }
    })
      .then(async (result) => {
        if (m.stateOut !== null) await writeToyJobState(m.stateOut, m.spec, m.job, result);
        writeJobFile(m.file, result.rows);
        send({ type: "done", file: m.file });
      })
      .catch((err: unknown) => send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  });
  send({ type: "ready" });
}

if (process.send !== undefined) await serve();
