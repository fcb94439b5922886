// Content pins for files read from installed packages (pretrained weights, datasets). A pin turns a
// silently different package version or a corrupted install into one clear error instead of wrong
// numbers later.
import { createHash } from "node:crypto";
import { UserError } from "./errors.ts";

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Throw a UserError unless `bytes` hash to `expected`. `what` names the file, `fix` says what to do
 * (usually which package version to reinstall).
 */
export function verifySha256(bytes: Uint8Array | string, expected: string, what: string, fix: string): void {
  const got = sha256Hex(bytes);
  if (got !== expected) {
    throw new UserError(`${what} has sha256 ${got.slice(0, 12)}…, expected ${expected.slice(0, 12)}…: ${fix}`);
  }
}
