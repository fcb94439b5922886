// A pool of child processes, one single-threaded engine each (one process per core measured faster
// than intra-op threads for sweeps: docs/engine.md), fed jobs from a queue over IPC. Protocol: the
// child says "ready", gets {type: "job", job}, may send "progress" messages, answers "done" or
// "error", and leaves on {type: "exit"}. A .ts worker module (the sources, run under tsx) is started
// with `--import <tsx URL>`, so the sweep works from any current directory; a .js one (the built
// dist/) is started with plain node, since tsx is only a development dependency.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export type ToPoolWorker<J> = { readonly type: "job"; readonly job: J } | { readonly type: "exit" };
export type FromPoolWorker =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly fraction: number }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly message: string };

/** Node flags that let a child process load TypeScript sources. */
export function tsxExecArgv(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/**
 * The worker module `name` beside the module at `fromUrl`, with the same extension: `x.ts` when
 * running the sources, `x.js` in the build (which rewrites import paths, not URL strings).
 */
export function siblingModule(name: string, fromUrl: string): URL {
  return new URL(`./${name}${fromUrl.endsWith(".ts") ? ".ts" : ".js"}`, fromUrl);
}

export interface PoolCallbacks<J> {
  /** A job's fraction done (0…1), as often as the worker reports it. */
  readonly onProgress?: (job: J, fraction: number) => void;
  /** A job finished (its results are on disk). */
  readonly onDone?: (job: J) => void;
}

/**
 * Run `jobs` on up to `count` children started from `workerUrl` (a module URL). Resolves when every
 * job is done; rejects on the first worker error (the other children are stopped). If this process
 * exits or is killed, the children are stopped and the jobs in flight are lost — never half-written,
 * since workers write results atomically.
 */
export async function runPool<J>(
  workerUrl: URL,
  jobs: readonly J[],
  count: number,
  cb: PoolCallbacks<J> = {},
): Promise<void> {
  const queue = [...jobs];
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill();
  };
  process.once("exit", stopAll);
  try {
    await Promise.all(
      Array.from({ length: Math.min(count, jobs.length) }, () => {
        const execArgv = workerUrl.pathname.endsWith(".ts") ? tsxExecArgv() : [];
        const child = fork(fileURLToPath(workerUrl), [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
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
            else if (m.type === "progress" && current !== undefined) cb.onProgress?.(current, m.fraction);
            else if (m.type === "done" && current !== undefined) {
              cb.onDone?.(current);
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

/**
 * The child side: announce readiness, run each job with `work` (which may report progress, at most
 * every 250 ms), report done or the error. When the parent goes away the job in flight is abandoned
 * and the worker leaves quietly.
 */
export function servePool<J>(work: (job: J, progress: (fraction: number) => void) => Promise<void>): void {
  const send = (m: FromPoolWorker) => {
    if (process.connected) process.send?.(m);
  };
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToPoolWorker<J>) => {
    if (m.type === "exit") {
      process.disconnect?.();
      return;
    }
    let last = 0;
    const progress = (fraction: number) => {
      const now = performance.now();
      if (now - last > 250) {
        last = now;
        send({ type: "progress", fraction });
      }
    };
    work(m.job, progress)
      .then(() => send({ type: "done" }))
      .catch((err: unknown) =>
        send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  send({ type: "ready" });
}
