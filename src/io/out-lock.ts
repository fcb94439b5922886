// One process per output folder: OUT/.lorascope.lock holds the owner's pid, host and command. A
// second run on the same folder is refused while the owner lives; a lock whose pid is gone (the
// owner was killed) is stale and taken over. The lock is removed when this process exits.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { fsErrorSentence, isFsError } from "./fs-errors.ts";
import { pidAlive } from "./pid-alive.ts";

export const LOCK_FILE = ".lorascope.lock";

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly started: string;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    if (typeof o.pid === "number" && typeof o.host === "string") {
      return { pid: o.pid, host: o.host, command: String(o.command ?? "lorascope"), started: String(o.started ?? "?") };
    }
  } catch {
    // unreadable or half-written: treated as stale below
  }
  return undefined;
}

const held = new Set<string>();

function releaseAll(): void {
  for (const file of held) {
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
  }
  held.clear();
}

/** Take `dir`'s lock for this process (until it exits), or throw naming the live owner. */
export function lockFolder(dir: string, command: string, flag = "--out"): void {
  const file = path.join(dir, LOCK_FILE);
  if (held.has(file)) return;
  const me: LockOwner = { pid: process.pid, host: os.hostname(), command, started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try {
        writeSync(fd, JSON.stringify(me) + "\n");
      } finally {
        closeSync(fd);
      }
      if (held.size === 0) process.once("exit", releaseAll);
      held.add(file);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        if (isFsError(err)) throw new UserError(`${fsErrorSentence(err, file, "lock")}; give ${flag} a writable folder`);
        throw err;
      }
    }
    const owner = readOwner(file);
    if (owner !== undefined && owner.pid !== process.pid) {
      if (owner.host !== me.host) {
        throw new UserError(
          `${dir} is locked by lorascope ${owner.command} (pid ${owner.pid} on ${owner.host}, since ${owner.started}); ` +
            `if that run is gone, delete ${file}, or give ${flag} another folder`,
        );
      }
      if (pidAlive(owner.pid)) {
        throw new UserError(
          `${dir} is in use by lorascope ${owner.command} (pid ${owner.pid} on ${owner.host}, since ${owner.started}); ` +
            `wait for it to finish or give ${flag} another folder`,
        );
      }
    }
    rmSync(file, { force: true }); // stale: its owner is gone
  }
  throw new UserError(`cannot lock ${dir}: another process keeps taking ${LOCK_FILE}; give ${flag} another folder`);
}
