// Pins for corpora with hundreds of files. Instead of a table of hashes in code, each corpus has a
// committed manifest beside this file in `sha256sum` format ("<sha256>  <name>" per line, so
// `cd node_modules/<pkg>/<dir> && sha256sum -c <manifest>` checks an install by hand), and the
// code pins the manifest itself. A file that differs from its line, or a manifest edited without
// the code, is one clear error.
import { readFileSync } from "node:fs";
import path from "node:path";
import { sha256Hex, verifySha256 } from "../core/checksum.ts";
import { readPackageFile } from "./text-dataset.ts";

export interface PinnedPackage {
  readonly pkg: string;
  readonly version: string;
  /** Folder of the installed package that the manifest's names are relative to. */
  readonly dir: string;
}

/**
 * The manifest `file` in assets/data/ (two folders up from both src/data and dist/data), checked
 * against its pin: name → sha256, in file order.
 */
export function readManifest(file: string, sha256: string): Map<string, string> {
  const url = new URL(`../../assets/data/${file}`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, "utf8");
  } catch {
    throw new Error(`the committed manifest ${file} is missing from assets/data/`);
  }
  if (sha256Hex(text) !== sha256) throw new Error(`the committed manifest ${file} does not match its pin in the code that reads it`);
  const pins = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (m === null) throw new Error(`${file} has a line that is not "<sha256>  <name>": ${line}`);
    pins.set(m[2] as string, m[1] as string);
  }
  return pins;
}

/** One file of the package as UTF-8 text, verified against its manifest line. */
export function readPinnedText(pkg: PinnedPackage, name: string, pins: ReadonlyMap<string, string>): string {
  const expected = pins.get(name);
  if (expected === undefined) throw new Error(`${name} is not in the manifest of ${pkg.pkg}`);
  const file = path.join(pkg.dir, name);
  const bytes = readPackageFile(file, pkg.pkg, pkg.version);
  verifySha256(bytes, expected, file, `reinstall it with npm install ${pkg.pkg}@${pkg.version}`);
  return bytes.toString("utf8");
}
