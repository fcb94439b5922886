/**
 * An error caused by the user's input (a bad flag, a corrupt file, a config field out of range).
 * Its message is one sentence saying what was wrong and what is allowed; the CLI prints it alone,
 * without a stack trace, and exits non-zero.
 */
export class UserError extends Error {
  override readonly name = "UserError";
}

/** Throw a UserError unless `cond` holds. */
export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new UserError(message);
}
