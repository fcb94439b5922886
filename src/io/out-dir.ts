// The output-folder guard every writing command runs before any work: the folder is created (or,
// for a folder written all at once, its parent), shown to be a writable directory by writing and
// removing a probe file, and, for folders that a run fills over time, locked against a second
// process. Every failure is one sentence naming the path and the reason, so a bad --out is found in
// a second rather than after an hour of training.
import { closeSync, fsyncSync, mkdirSync, openSync, realpathSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { fsErrorSentence, isFsError } from "./fs-errors.ts";
import { lockFolder } from "./out-lock.ts";

/** Kernel file systems: not places for output (Node's recursive mkdir even loops under /proc). */
const SYSTEM_ROOTS = ["/proc", "/sys", "/dev"];

export interface OutDirOptions {
  /** The flag that named the folder, for messages. Default "--out". */
  readonly flag?: string;
  /**
   * "fill": the folder is created now and filled while running (a resumable sweep, a finetune's
   * adapter); it is locked against a second process. "fresh": the folder is written later in one
   * step and must not exist or be empty; only its parent is created and probed now.
   */
  readonly mode: "fill" | "fresh";
  /** The command taking the lock, recorded in the lock file. */
  readonly command?: string;
}

const underSystemRoot = (p: string): string | undefined =>
  SYSTEM_ROOTS.find((root) => p === root || p.startsWith(`${root}/`));

/** The deepest existing ancestor of `p` (itself when it exists) with symbolic links resolved. */
function realAncestor(p: string): string {
  let cur = p;
  for (;;) {
    try {
      return path.join(realpathSync(cur), path.relative(cur, p));
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return p;
      cur = up;
    }
  }
}

/** Throw the one sentence for a filesystem error met while preparing `dir`. */
function refuse(err: unknown, dir: string, flag: string, what: string): never {
  if (isFsError(err)) throw new UserError(`${fsErrorSentence(err, dir, what)}; give ${flag} a writable folder`);
  throw err;
}

/**
 * Create `dir` and its missing parents one at a time, returning those created (deepest last). Not
 * `mkdir -p`: Node's recursive mkdir reports a read-only file system as ENOENT and loops under /proc.
 */
function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let cur = dir; statSync(cur, { throwIfNoEntry: false }) === undefined; cur = path.dirname(cur)) {
    missing.unshift(cur);
    if (path.dirname(cur) === cur) break;
  }
  const created: string[] = [];
  try {
    for (const d of missing) {
      mkdirSync(d);
      created.push(d);
    }
  } catch (err) {
    removeCreated(created);
    throw err;
  }
  return created;
}

/** Undo `makeDirs` after a failed probe, so a refused --out leaves nothing behind. */
function removeCreated(created: readonly string[]): void {
  for (const d of [...created].reverse()) rmSync(d, { recursive: true, force: true });
}

/** Create `dir` (and its parents) and show that a file can be written in it. */
function makeWritable(dir: string, flag: string): void {
  let created: string[] = [];
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st !== undefined && !st.isDirectory()) throw new UserError(`${dir} is a file, not a folder; give ${flag} a folder`);
    if (st === undefined) created = makeDirs(dir);
  } catch (err) {
    refuse(err, dir, flag, "create");
  }
  const probe = path.join(dir, `.lorascope-probe.${process.pid}.tmp`);
  try {
    const fd = openSync(probe, "w");
    try {
      writeSync(fd, "lorascope checks that this folder is writable\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(probe, { force: true });
    removeCreated(created);
    refuse(err, dir, flag, "write in");
  }
  rmSync(probe, { force: true });
}

/**
 * Check, create and (mode "fill") lock the output folder `out`; returns its absolute path. Throws a
 * UserError for an empty name, a path under /proc, /sys or /dev, a path through a file, a read-only
 * or full disk, a name too long, missing permission, a folder in use by another lorascope process,
 * and (mode "fresh") a folder that is not empty.
 */
export async function guardOutDir(out: string, opts: OutDirOptions): Promise<string> {
  const flag = opts.flag ?? "--out";
  if (out.trim() === "") throw new UserError(`${flag} is empty; give it a folder name`);
  const abs = path.resolve(out);
  const root = underSystemRoot(abs) ?? underSystemRoot(realAncestor(abs));
  if (root !== undefined) throw new UserError(`${flag} ${out} is under ${root}, a system folder; give a folder on disk`);
  if (opts.mode === "fresh") {
    const { checkEmptyOut } = await import("./atomic.ts");
    await checkEmptyOut(out);
    makeWritable(path.dirname(abs), flag);
    return abs;
  }
  makeWritable(abs, flag);
  lockFolder(abs, opts.command ?? "lorascope", flag);
  return abs;
}
