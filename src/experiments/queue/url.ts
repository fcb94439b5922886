// A job queue's address as the user gives it, `redis://[user:password@]host:port[/db]` or
// `rediss://…` for TLS, checked here with one sentence per mistake and turned into the connection
// options ioredis takes (through BullMQ). Parsing loads no queue package, so the CLI checks the flag
// before anything starts.
import { UserError } from "../../core/errors.ts";

export interface QueueTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** The address without its password, for messages. */
  readonly shown: string;
}

/** Redis's own default port, taken when the URL names none. */
const REDIS_PORT = 6379;

const FORM = "redis://[user:password@]host:port[/db] (or rediss:// for TLS)";

/** `raw` → where and how to connect; a UserError naming what is wrong otherwise. */
export function parseQueueUrl(raw: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`--queue "${raw}" is not a URL; give ${FORM}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new UserError(`--queue must be a redis:// or rediss:// URL, got "${u.protocol}"; give ${FORM}`);
  }
  if (u.hostname === "") throw new UserError(`--queue "${raw}" names no host; give ${FORM}`);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(dbText)) {
    throw new UserError(`--queue database "${dbText}" must be a number 0…15; give ${FORM}`);
  }
  if (u.search !== "" || u.hash !== "") throw new UserError(`--queue "${raw}" takes no ?query or #fragment; give ${FORM}`);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1"); // an IPv6 literal without its brackets
  return {
    host,
    port: u.port === "" ? REDIS_PORT : Number(u.port),
    db,
    ...(username === "" ? {} : { username }),
    ...(password === "" ? {} : { password }),
    tls: u.protocol === "rediss:",
    shown: `${u.protocol}//${username === "" ? "" : `${username}@`}${u.host}${u.port === "" ? `:${REDIS_PORT}` : ""}/${db}`,
  };
}
