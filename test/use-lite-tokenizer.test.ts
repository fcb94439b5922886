// Token ids of the re-implemented USE-lite tokenizer against the reference tokenizer of
// @energetic-ai/embeddings@0.2.0 (dev dependency; the same code as
// @tensorflow-models/universal-sentence-encoder's), on all 3,000 UCI sentiment sentences of
// sentiment@5.0.2 (a superset of the sentences of test/use-lite-reference.test.ts) plus Unicode
// edge cases; and the tokenizer's own contract (empty input, truncation to 128).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { encode, encodeAll, makeTokenizer, normalize } from "../src/models/use-lite/tokenizer.ts";
import { loadUseLiteVocabulary } from "../src/models/use-lite/weights.ts";

const require = createRequire(import.meta.url);
const vocab = loadUseLiteVocabulary();
const tok = makeTokenizer(vocab);
const sentences = ["imdb", "yelp", "amazon"].flatMap((f) =>
  (require(`sentiment/test/fixtures/${f}.json`) as Array<{ text: string }>).map((r) => r.text).filter((t) => t !== ""),
);

/** The reference tokenizer, reached through the only class @energetic-ai/embeddings exports. */
function referenceTokenizer(): { encode(text: string): number[] } {
  const { EmbeddingsModel } = require("@energetic-ai/embeddings") as {
    EmbeddingsModel: new (d: { vocabulary: unknown; model: unknown }) => {
      tokenizer: { encode(text: string): number[] };
    };
  };
  return new EmbeddingsModel({ vocabulary: vocab, model: null }).tokenizer;
}

test("token ids equal the reference tokenizer's on every sentiment sentence and Unicode edge cases", () => {
  const ref = referenceTokenizer();
  const edge = [
    "Hello  world", // double space → two separators
    " leading and trailing ", // separators at both ends
    "ﬁne ＡＢＣ ½ café", // NFKC folds ligatures, full-width letters and fractions
    "tab\tand\nnewline", // only U+0020 becomes ▁
    "☃ 😀😀 日本語 ∑∑", // unknown pieces, astral code points, runs of unknowns merged
    "x",
    " ",
  ];
  const texts = [...sentences, ...edge];
  assert.equal(texts.length, 3007);
  let unknown = 0;
  for (const t of texts) {
    const ours = encodeAll(tok, t);
    assert.deepEqual(ours, ref.encode(t), `token ids differ for ${JSON.stringify(t)}`);
    unknown += ours.filter((id) => id === 0).length;
  }
  assert.ok(unknown > 10, "the sentences exercise the unknown-piece path");
});

test("normalisation is NFKC plus ▁ for spaces, without lowercasing", () => {
  assert.equal(normalize("Hi ﬁne"), "▁Hi▁fine");
  assert.equal(normalize(""), "");
  // Case matters: "▁The" and "▁the" are different pieces.
  assert.notDeepEqual(encodeAll(tok, "The"), encodeAll(tok, "the"));
});

test("an empty sentence is a UserError; long sentences are cut to 128 tokens and counted", () => {
  assert.throws(
    () => encode(tok, ["fine", ""]),
    (e: unknown) => e instanceof UserError && /sentence 1 is empty/.test(e.message),
  );
  const long = "the movie was good ".repeat(40);
  const all = encodeAll(tok, long);
  assert.ok(all.length > 128);
  const { ids, truncated } = encode(tok, [long, "short one"]);
  assert.equal(truncated, 1);
  assert.deepEqual(ids[0], all.slice(0, 128));
  assert.deepEqual(ids[1], encodeAll(tok, "short one"));
});
