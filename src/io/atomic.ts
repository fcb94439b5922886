// Atomic file writes: a reader sees either the old file or the complete new one, never a prefix.
// The bytes go to a temporary file in the same directory (so the rename stays on one file system),
// are flushed to disk, and the temporary file is then renamed over the target (POSIX rename is atomic).
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";

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
    throw err;
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
    throw err;
  }
}

/** Temporary files of `writeFileAtomic` left in `dir` by a writer that was killed mid-write. */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no directory, nothing left behind
  }
  for (const f of names) if (/^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(f)) rmSync(path.join(dir, f), { force: true });
}
