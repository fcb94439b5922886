// The USE-lite tokenizer: SentencePiece-style unigram segmentation over an 8,000-piece vocabulary.
// A re-implementation, quirk for quirk, of the reference used with these weights:
// @tensorflow-models/universal-sentence-encoder src/tokenizer/{index,trie}.ts (Apache-2.0), as
// published in @energetic-ai/embeddings@0.2.0 dist/index.js. Token ids must match it exactly, since
// the embedding rows were trained against them (test/use-lite-reference.test.ts compares the two).
//
// The algorithm, in the reference's own terms:
// 1. normalise: NFKC; if non-empty, prefix "▁" and replace every U+0020 space with "▁" (no
//    lowercasing, other whitespace kept as is);
// 2. for each start position, all vocabulary pieces that are prefixes of the rest (a trie walk over
//    code points; pieces 0–5 — "�", <s>, </s>, extra ids — are not in the trie); if none, the single
//    code point as the unknown piece (id 0, score 0);
// 3. best-score path over end positions, with the reference's tie and zero rules (below);
// 4. backtrack, then merge runs of unknown pieces into one id 0.
import { UserError } from "../../core/errors.ts";
import type { Vocabulary } from "./weights.ts";

const SEPARATOR = "\u2581";
/** Pieces 0..5 are reserved (unknown, <s>, </s>, 3 extra ids) and never matched. */
const RESERVED = 6;
export const UNKNOWN_ID = 0;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Token id ending here, or -1. */
  id: number;
}

export interface Tokenizer {
  readonly vocabulary: Vocabulary;
  readonly root: TrieNode;
  /** Tokens kept per sentence; the graph drops positions ≥ 128 (ClipToMaxLength). */
  readonly maxLength: number;
}

export function makeTokenizer(vocabulary: Vocabulary, maxLength = 128): Tokenizer {
  const root: TrieNode = { children: new Map(), id: -1 };
  for (let id = RESERVED; id < vocabulary.length; id++) {
    const piece = (vocabulary[id] as readonly [string, number])[0];
    let node = root;
    for (const ch of piece) {
      let next = node.children.get(ch);
      if (next === undefined) {
        next = { children: new Map(), id: -1 };
        node.children.set(ch, next);
      }
      node = next;
    }
    // A later duplicate overwrites an earlier one, as in the reference's `insert`. An empty piece
    // never reaches a node (the reference skips it too).
    if (piece.length > 0) node.id = id;
  }
  return { vocabulary, root, maxLength };
}

/** Step 1: the reference's `processInput`. */
export function normalize(text: string): string {
  const n = text.normalize("NFKC");
  return n.length > 0 ? SEPARATOR + n.replace(/ /g, SEPARATOR) : n;
}

/**
 * Token ids of one sentence, untruncated, exactly as the reference encodes it. Throws a UserError
 * for a sentence that is empty after normalisation (the model has no embedding for it).
 */
export function encodeAll(tok: Tokenizer, text: string): number[] {
  const symbols = Array.from(normalize(text)); // code points, like the reference's stringToChars
  const n = symbols.length;
  if (n === 0) throw new UserError("a sentence is empty; every sentence needs at least one character");
  const score = (id: number) => (id === UNKNOWN_ID ? 0 : ((tok.vocabulary[id] as readonly [string, number])[1]));

  // Step 2: candidates ending at each position, grouped by start: ends[end] = [[start, id], ...],
  // in increasing start order, and in trie order (shorter first) within a start — the reference's
  // `nodes[end][start]` object, whose integer keys iterate in increasing order. The outer loop runs
  // over increasing starts, so each list is already in that order.
  const ends: Array<Array<[number, number]>> = Array.from({ length: n + 1 }, () => []);
  for (let i = 0; i < n; i++) {
    let node = tok.root.children.get(symbols[i] as string);
    let found = false;
    for (let j = i; j < n && node !== undefined; j++) {
      if (node.id >= 0) {
        (ends[j + 1] as Array<[number, number]>).push([i, node.id]);
        found = true;
      }
      node = j + 1 < n ? node.children.get(symbols[j + 1] as string) : undefined;
    }
    if (!found) (ends[i + 1] as Array<[number, number]>).push([i, UNKNOWN_ID]);
  }

  // Step 3: best[end] = best total log-prob of a segmentation of symbols[0, end). Quirks kept: a
  // best of exactly 0 counts as "unset" (any candidate replaces it) and ties go to the later one.
  const best = new Float64Array(n + 1);
  const words = new Int32Array(n + 1);
  for (let end = 1; end <= n; end++) {
    for (const [start, id] of ends[end] as Array<[number, number]>) {
      const s = score(id) + (best[start] as number);
      if (best[end] === 0 || s >= (best[end] as number)) {
        best[end] = s;
        words[end] = id;
      }
    }
  }

  // Step 4: backtrack. The reference steps back by the piece's string length in UTF-16 units
  // (`vocabulary[id][0].length`), not in code points; kept, although the two agree for this
  // vocabulary's pieces.
  const reversed: number[] = [];
  for (let at = n; at > 0; ) {
    const id = words[at] as number;
    reversed.push(id);
    at -= (tok.vocabulary[id] as readonly [string, number])[0].length;
  }
  const merged: number[] = [];
  let previousUnknown = false;
  for (const id of reversed) {
    if (!(previousUnknown && id === UNKNOWN_ID)) merged.push(id);
    previousUnknown = id === UNKNOWN_ID;
  }
  return merged.reverse();
}

export interface Encoded {
  /** Token ids per sentence, each at most `maxLength` long. */
  readonly ids: number[][];
  /** How many sentences were cut to `maxLength` tokens (the caller says so once). */
  readonly truncated: number;
}

/**
 * Encode a batch of sentences, cutting each to the first `maxLength` tokens — what the original
 * graph does to longer inputs. `truncated` counts the cut sentences.
 */
export function encode(tok: Tokenizer, texts: readonly string[]): Encoded {
  let truncated = 0;
  const ids = texts.map((text, k) => {
    let all: number[];
    try {
      all = encodeAll(tok, text);
    } catch (e) {
      if (e instanceof UserError)
        throw new UserError(`sentence ${k} is empty; every sentence needs at least one character`);
      throw e;
    }
    if (all.length <= tok.maxLength) return all;
    truncated++;
    return all.slice(0, tok.maxLength);
  });
  return { ids, truncated };
}
