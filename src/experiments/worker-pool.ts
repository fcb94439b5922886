// A pool of child processes, one single-threaded engine each (one process per core measured faster
// than intra-op threads for sweeps: docs/engine.md), fed jobs from a queue over IPC. Protocol: the
// child says "ready", gets {type: "job", job}, may send "progress" messages, answers "done" or
// "error", and leaves on {type: "exit"}. A .ts worker module (the sources, run under tsx) is started
// with `--import <tsx URL>`, so the sweep works from any current directory; a .js one (the built
// dist/) is started with plain node, since tsx is only a development dependency.
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../core/errors.ts";
import { actionOf, fsErrorSentence, isFsError } from "../io/fs-errors.ts";

export type ToPoolWorker<J> = { readonly type: "job"; readonly job: J } | { readonly type: "exit" };
export type FromPoolWorker =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly fraction: number }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly error: WorkerError };

/**
 * An error as it crosses IPC: "user" (a UserError, or a filesystem error already put as one
 * sentence) reads in the parent exactly as in the worker; "internal" carries the stack for the log.
 */
export interface WorkerError {
  readonly kind: "user" | "internal";
  readonly message: string;
  readonly stack?: string;
}

/** The worker side: what to send for `err`. */
export function workerError(err: unknown): WorkerError {
  if (err instanceof UserError) return { kind: "user", message: err.message };
  if (isFsError(err)) return { kind: "user", message: fsErrorSentence(err, err.path, actionOf(err.syscall)) };
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: "internal", message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) };
}

/** Name of the log an unexpected worker error's stack goes to, in the sweep's output folder. */
export const WORKER_LOG = "worker-errors.log";

/**
 * The parent side: a UserError with the worker's sentence, or for an internal error one sentence
 * saying where its stack was written (`logDir`/worker-errors.log; only the message without one).
 */
export function fromWorkerError(e: WorkerError, logDir: string | undefined): Error {
  if (e.kind === "user") return new UserError(e.message);
  if (logDir === undefined) return new Error(`a sweep worker failed: ${e.message}`);
  const log = path.join(logDir, WORKER_LOG);
  try {
    appendFileSync(log, `${new Date().toISOString()} pid ${process.pid}\n${e.stack ?? e.message}\n\n`);
  } catch {
    return new Error(`a sweep worker failed: ${e.message}`);
  }
  return new UserError(`a sweep worker failed unexpectedly (${e.message}); the details are in ${log}`);
}

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
  /** Where an unexpected worker error's stack is logged (the sweep's output folder). */
  readonly logDir?: string;
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
            } else if (m.type === "error") reject(fromWorkerError(m.error, cb.logDir));
          });
          child.on("exit", (code, signal) => {
            if (current !== undefined && code !== 0) {
              const how = signal === null ? `with code ${code}` : `on ${signal}`;
              reject(new UserError(`a sweep worker stopped ${how} in the middle of a run; the finished runs are saved and a rerun resumes`));
            }
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
      .catch((err: unknown) => send({ type: "error", error: workerError(err) }));
  });
  send({ type: "ready" });
}
