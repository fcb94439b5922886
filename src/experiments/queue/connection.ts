// BullMQ, loaded only when a queue is used (it is an optional dependency: a local sweep, `--help`
// and the package without optional packages never load it), and the connection every queue client
// shares: a short connect timeout and a bounded retry, so an unreachable Redis is one sentence within
// seconds instead of a client retrying forever.
import { UserError } from "../../core/errors.ts";
import type { QueueTarget } from "./url.ts";

export type Bullmq = typeof import("bullmq");
export type RedisOptions = import("bullmq").RedisOptions;

/** The pinned version (package.json's optionalDependencies), for the install hint. */
const BULLMQ_VERSION = "5.81.5";

/** The queue every lorascope sweep and worker uses; job ids keep sweeps apart within it. */
export const QUEUE_NAME = "lorascope";

/** The BullMQ module, or a UserError saying what to install. */
export async function loadBullmq(): Promise<Bullmq> {
  try {
    return await import("bullmq");
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw err;
    throw new UserError(`queue mode needs the bullmq package, which is not installed: run npm install bullmq@${BULLMQ_VERSION}`);
  }
}

/** How long connecting may take before the address counts as unreachable. */
const CONNECT_TIMEOUT_MS = 3000;
/** Reconnects after a lost connection (about a minute in all) before a client gives up. */
const RECONNECTS = 30;

/**
 * ioredis options for `t`. `blocking` clients (a BullMQ Worker's) must retry commands without limit
 * (BullMQ requires maxRetriesPerRequest null); the connection itself still gives up after RECONNECTS.
 */
export function redisOptions(t: QueueTarget, blocking: boolean): RedisOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username === undefined ? {} : { username: t.username }),
    ...(t.password === undefined ? {} : { password: t.password }),
    ...(t.tls ? { tls: { servername: t.host } } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times: number) => (times > RECONNECTS ? null : Math.min(200 * times, 2000)),
    maxRetriesPerRequest: blocking ? null : 3,
  };
}

/** One sentence for a connection failure. */
export function unreachable(t: QueueTarget, err: unknown): UserError {
  const e = err as { code?: unknown; message?: unknown };
  const why = typeof e.code === "string" ? e.code : String(e.message ?? err);
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(String(e.message))) {
    return new UserError(`the queue at ${t.shown} refused the user name or password (${String(e.message)}); check the --queue URL`);
  }
  return new UserError(`the queue at ${t.shown} cannot be reached (${why}); start Redis there or check the --queue URL`);
}

/**
 * Connect once with no retries and ask one thing, so a wrong address fails fast with one sentence; closes
 * the probe connection. Every client made afterwards uses `redisOptions`.
 */
export async function checkReachable(bull: Bullmq, t: QueueTarget): Promise<void> {
  const probe = new bull.Queue(QUEUE_NAME, {
    connection: {
      ...redisOptions(t, false),
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    },
  });
  let firstError: unknown;
  probe.on("error", (e) => (firstError ??= e));
  try {
    await probe.waitUntilReady();
    await probe.count(); // one command answered: the address, the password and the database are right
  } catch (err) {
    throw unreachable(t, firstError ?? err);
  } finally {
    await probe.close().catch(() => {});
  }
}
