// Filesystem failures as one sentence naming the path and the reason. Node's errors read
// "ENOSPC: no space left on device, write" with no path for a write on an open file, and a stack
// besides; a user needs to know which file and what to do about it.

/** The reason an errno code gives, in words, or undefined for codes that are not about the disk. */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of the path is a file, not a directory",
  EISDIR: "it is a directory, not a file",
  ENAMETOOLONG: "the name is too long",
  ENOENT: "it does not exist",
  EEXIST: "it already exists",
  ENOTEMPTY: "the directory is not empty",
  EMFILE: "too many files are open",
  ENFILE: "too many files are open",
  EIO: "an input/output error occurred",
  ELOOP: "the path has too many symbolic links",
  EINVAL: "the file system does not allow it",
  EFBIG: "the file is too large",
  EBUSY: "it is in use",
  EXDEV: "it is on another file system",
};

export type ErrnoError = NodeJS.ErrnoException & { code: string };

/** Whether `err` is a filesystem error Node raised (it has an errno code this module knows). */
export function isFsError(err: unknown): err is ErrnoError {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && code in REASONS;
}

/** "cannot write /x/y: the disk is full (ENOSPC)": `what` is the action, `file` the path involved. */
export function fsErrorSentence(err: ErrnoError, file?: string, what = "use"): string {
  const where = file ?? err.path ?? "a file";
  return `cannot ${what} ${where}: ${REASONS[err.code] ?? "it failed"} (${err.code})`;
}

/** The action an fs syscall name stands for, for `fsErrorSentence`. */
export function actionOf(syscall: string | undefined): string {
  if (syscall === undefined) return "use";
  if (/^(open|read|stat|lstat|scandir|readlink)/.test(syscall)) return "read";
  if (/^(mkdir)/.test(syscall)) return "create";
  if (/^(rename|unlink|rmdir|rm)/.test(syscall)) return "replace";
  return "write";
}
