// Atomic file writes: a reader sees either the old file or the complete new one, never a prefix.
// The bytes go to a temporary file in the same directory (so the rename stays on one file system),
// are flushed to disk, and the temporary file is then renamed over the target (POSIX rename is atomic).
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { UserError } from "../core/errors.ts";
import path from "node:path";
import { pidAlive } from "./pid-alive.ts";
import { fsErrorSentence, isFsError, type ErrnoError } from "./fs-errors.ts";

/** Name the target on an error from writing to an open file (Node's has no path): the CLI's sentence shows it. */
function withPath(err: unknown, file: string): unknown {
  if (isFsError(err) && (err.path === undefined || /\.tmp$/.test(err.path))) {
    err.path = file;
    err.syscall = "write";
  }
  return err;
}

/** The temporary file next to `file`: `.<name>.<pid>.<12 hex>.tmp` (what removeStaleTemps matches). */
function tempFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempFor(file);
  try {
    const fh = await open(tmp, "wx");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw withPath(err, file);
  }
}

/** `writeFileAtomic` for synchronous callers (a sweep worker's per-job rows). */
export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  const tmp = tempFor(file);
  try {
    const fd = openSync(tmp, "wx");
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw withPath(err, file);
  }
}

/**
 * Temporary files of `writeFileAtomic` left in `dir` by a writer that was killed mid-write. A temp
 * whose pid (in its name) is a live process other than this one belongs to a writer still at work
 * and is kept; this process has written none yet when it cleans up, so its own pid counts as stale.
 */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no directory, nothing left behind
  }
  for (const f of names) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(f);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    rmSync(path.join(dir, f), { force: true, recursive: true });
  }
}

/** Refuse an `out` that exists as a file or a non-empty folder. */
export async function checkEmptyOut(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") {
      // `out` itself is a file, or a folder above it is (then `out` can never be made).
      const isFile = await stat(out).then((st) => !st.isDirectory(), () => false);
      if (isFile) throw new UserError(`${out} is a file; give --out a new or empty folder`);
      throw new UserError(`${fsErrorSentence(err as ErrnoError, out, "create")}; give --out a writable folder`);
    }
    throw new UserError(isFsError(err) ? fsErrorSentence(err, out, "read") : `cannot read ${out} (${String(err)})`);
  }
  if (entries.length > 0) {
    throw new UserError(`${out} is not empty (${entries.length} entries); give --out a new or empty folder so nothing is overwritten`);
  }
}

/** The name an existing folder is swapped aside to while `buildFolderAtomic` replaces it. */
export const replacedFolder = (out: string): string => path.join(path.dirname(path.resolve(out)), `.${path.basename(path.resolve(out))}.old`);

export interface BuildFolderOptions {
  /**
   * "fresh" (default): `out` must not exist or be empty. "replace": an existing `out` is renamed to
   * `replacedFolder(out)`, the new folder renamed into place, then the old one removed; a kill
   * between the two renames leaves only the old folder, which a reader can fall back to.
   */
  readonly mode?: "fresh" | "replace";
}

/**
 * Build the folder `out` all or nothing: `fill` writes into `.<name>.<pid>.<hex>.tmp` beside it, then
 * one rename (which replaces an empty `out`) publishes it; if `fill` throws, the temporary folder is
 * removed and `out` is untouched.
 */
export async function buildFolderAtomic(
  out: string,
  fill: (tmp: string) => Promise<void>,
  opts: BuildFolderOptions = {},
): Promise<void> {
  const replace = opts.mode === "replace";
  if (!replace) await checkEmptyOut(out);
  const parent = path.dirname(path.resolve(out));
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(path.resolve(out))}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  await mkdir(tmp);
  try {
    await fill(tmp);
    if (replace) {
      const old = replacedFolder(out);
      await rm(old, { recursive: true, force: true });
      await rename(out, old).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      });
      await rename(tmp, out);
      await rm(old, { recursive: true, force: true });
    } else {
      await checkEmptyOut(out); // again: something may have appeared while the files were written
      await rename(tmp, out);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw withPath(err, out);
  }
}

/** Write `files` (name → bytes) as new files in the existing folder `dir`, each flushed to disk. */
export async function writeFilesFlushed(
  dir: string,
  files: Iterable<readonly [string, Uint8Array | string]>,
): Promise<void> {
  for (const [name, data] of files) {
    const fh = await open(path.join(dir, name), "wx");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** Write `files` (name → bytes) as the folder `out`, all or nothing (buildFolderAtomic), each file flushed. */
export async function writeFolderAtomic(out: string, files: ReadonlyMap<string, Uint8Array | string>): Promise<void> {
  await buildFolderAtomic(out, (tmp) => writeFilesFlushed(tmp, files));
}
