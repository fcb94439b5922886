// A pool of child processes, one single-threaded engine each (the engine notes measured one process
// per core faster than intra-op threads), fed jobs from a queue over IPC. The protocol is the toy
// runner's (toy-worker.ts): the child says "ready", gets {type: "job", job}, answers "done" or
// "error", and leaves on {type: "exit"}. The child module is started with `--import <tsx URL>` so it
// can be a .ts file, as toy-runner.ts does.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export type ToPoolWorker<J> = { readonly type: "job"; readonly job: J } | { readonly type: "exit" };
export type FromPoolWorker = { readonly type: "ready" } | { readonly type: "done" } | { readonly type: "error"; readonly message: string };

/** Node flags that let a child process load TypeScript sources. */
export function tsxExecArgv(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/**
 * Run `jobs` on up to `count` children started from `workerUrl` (a module URL). Resolves when every
 * job is done; rejects on the first worker error (the other children are stopped).
 */
export async function runPool<J>(workerUrl: URL, jobs: readonly J[], count: number, onDone: (job: J) => void = () => {}): Promise<void> {
  const queue = [...jobs];
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill();
  };
  process.once("exit", stopAll);
  try {
    await Promise.all(
      Array.from({ length: Math.min(count, jobs.length) }, () => {
        const child = fork(fileURLToPath(workerUrl), [], { execArgv: tsxExecArgv(), stdio: ["ignore", "inherit", "inherit", "ipc"] });
        children.push(child);
        return new Promise<void>((resolve, reject) => {
          let current: J | undefined;
          const next = () => {
            current = queue.shift();
            if (current === undefined) {
              child.send({ type: "exit" } satisfies ToPoolWorker<J>);
              resolve();
              return;
            }
            child.send({ type: "job", job: current } satisfies ToPoolWorker<J>);
          };
          child.on("message", (m: FromPoolWorker) => {
            if (m.type === "ready") next();
            else if (m.type === "done" && current !== undefined) {
              onDone(current);
              next();
            } else if (m.type === "error") reject(new Error(`a sweep worker failed: ${m.message}`));
          });
          child.on("exit", (code) => {
            if (current !== undefined && code !== 0) reject(new Error(`a sweep worker exited with code ${code}`));
          });
        });
      }),
    );
  } finally {
    process.removeListener("exit", stopAll);
    stopAll();
  }
}

/** The child side: announce readiness, run each job with `work`, report done or the error. */
export function servePool<J>(work: (job: J) => Promise<void>): void {
  const send = (m: FromPoolWorker) => process.send?.(m);
  process.on("message", (m: ToPoolWorker<J>) => {
    if (m.type === "exit") {
      process.disconnect?.();
      return;
    }
    work(m.job)
      .then(() => send({ type: "done" }))
      .catch((err: unknown) => send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  });
  send({ type: "ready" });
}
