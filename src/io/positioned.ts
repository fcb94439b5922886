// Files read and written by position, so that memory follows the piece in use rather than the file
// (safetensors tensors, llama2.c checkpoints): open with the size known, fill a buffer from an offset,
// write one at an offset. Each failure is the caller's sentence, since only it knows what the file is.
import { open, type FileHandle } from "node:fs/promises";
import type { UserError } from "../core/errors.ts";

/** Open `file` for reading with its size; `refuse` turns an open or stat error into the caller's sentence. */
export async function openSized(
  file: string,
  refuse: (err: unknown) => UserError,
): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, "r");
    return { fh, size: (await fh.stat()).size };
  } catch (err) {
    await fh?.close();
    throw refuse(err);
  }
}

/** Fill `into` from byte `position`; `ended(at)` is the sentence when the file ends first, at byte `at`. */
export async function readExactly(
  fh: FileHandle,
  into: Uint8Array,
  position: number,
  ended: (at: number) => UserError,
): Promise<void> {
  for (let done = 0; done < into.length; ) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw ended(position + done);
    done += bytesRead;
  }
}

/** Write all of `bytes` at `position` (a positioned write may take fewer bytes than asked). */
export async function writeExactly(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
