// Child-process entry of the sweep runner: one single-threaded engine per process (measured faster
// than intra-op threads on this class of machine, docs engine notes), jobs received over IPC. Each
// job's rows are written to a temp file and renamed into place, so a kill loses only jobs in flight.
import { initEngine } from "../engine/index.ts";
import { runToyJob, type ToyJob } from "./toy-job.ts";
import { writeJobFile } from "./toy-store.ts";
import type { ToySpec } from "./toy-spec.ts";

export type ToWorker = { readonly type: "job"; readonly spec: ToySpec; readonly job: ToyJob; readonly file: string } | { readonly type: "exit" };
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly fraction: number }
  | { readonly type: "done"; readonly file: string }
  | { readonly type: "error"; readonly message: string };

function send(m: FromWorker): void {
  process.send?.(m);
}

async function serve(): Promise<void> {
  await initEngine({ threads: 1 });
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
      .then(({ rows }) => {
        writeJobFile(m.file, rows);
        send({ type: "done", file: m.file });
      })
      .catch((err: unknown) => send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  });
  send({ type: "ready" });
}

if (process.send !== undefined) await serve();
