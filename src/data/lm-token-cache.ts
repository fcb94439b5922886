// Token ids of a text kept on disk, so that tokenizing a large corpus (the SOTU addresses take minutes
// with a pure-JS tokenizer) is done once and every later run with the same tokenizer, text, split and
// sequence length reads the ids instead. An entry is two files under the cache folder, named by
// SHA-256 of (tokenizer key, the text's bytes and split, seqLen, vocabSize):
//   <hash>.i32   every sequence's ids, concatenated, little-endian int32
//   <hash>.json  { description, truncated, dropped, lengths } — written last, so its presence means
//                the entry is whole; a damaged entry is ignored and written again.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomicSync } from "../io/atomic.ts";
import { corpusDocuments, loadLmText, type LmSequences, type LmTextOptions } from "./lm-text.ts";

export interface TokenCache {
  /** The folder holding the entries (made on first write). */
  readonly dir: string;
  /** Names the tokenizer: a hash of its files, so another tokenizer never reads these ids. */
  readonly tokenizerKey: string;
}

interface EntryMeta {
  readonly description: string;
  readonly truncated: number;
  readonly dropped: number;
  readonly lengths: readonly number[];
}

/**
 * SHA-256 of what a text spec holds: a corpus split's name and documents, or a file's bytes (a file
 * has no splits: used for training and as --valid it is one entry); undefined if unreadable.
 */
function contentHash(spec: string, options: LmTextOptions): string | undefined {
  const h = createHash("sha256");
  const corpus = corpusDocuments(spec, options.split ?? "train");
  if (corpus !== undefined) {
    h.update(`${corpus.split}\0`);
    for (const d of corpus.docs) h.update(`${d.id}\0${d.text}\0`);
  } else {
    try {
      h.update(readFileSync(spec));
    } catch {
      return undefined; // loadLmText says what is wrong with the path
    }
  }
  return h.digest("hex");
}

function readEntry(base: string): LmSequences | undefined {
  if (!existsSync(`${base}.json`)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(`${base}.json`, "utf8")) as EntryMeta;
    const bytes = readFileSync(`${base}.i32`);
    const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const total = meta.lengths.reduce((a, b) => a + b, 0);
    if (total !== ids.length) return undefined;
    const sequences: Int32Array[] = [];
    let at = 0;
    for (const n of meta.lengths) {
      sequences.push(ids.slice(at, at + n));
      at += n;
    }
    const { truncated, dropped, description } = meta;
    return { sequences, tokens: total, truncated, dropped, description };
  } catch {
    return undefined; // cut short or not ours: tokenize again and overwrite
  }
}

function writeEntry(base: string, seqs: LmSequences): void {
  const ids = new Int32Array(seqs.tokens);
  let at = 0;
  for (const s of seqs.sequences) {
    ids.set(s, at);
    at += s.length;
  }
  writeFileAtomicSync(`${base}.i32`, new Uint8Array(ids.buffer));
  const meta: EntryMeta = {
    description: seqs.description,
    truncated: seqs.truncated,
    dropped: seqs.dropped,
    lengths: seqs.sequences.map((s) => s.length),
  };
  writeFileAtomicSync(`${base}.json`, JSON.stringify(meta) + "\n");
}

/** `loadLmText` through the cache: the ids on disk when present, else tokenized and stored. */
export function loadLmTextCached(spec: string, options: LmTextOptions, cache: TokenCache | undefined): LmSequences {
  const content = cache === undefined ? undefined : contentHash(spec, options);
  if (cache === undefined || content === undefined) return loadLmText(spec, options);
  const key = createHash("sha256")
    .update(JSON.stringify([cache.tokenizerKey, content, options.seqLen, options.vocabSize]))
    .digest("hex")
    .slice(0, 32);
  const base = path.join(cache.dir, key);
  const hit = readEntry(base);
  if (hit !== undefined) return hit;
  const seqs = loadLmText(spec, options);
  mkdirSync(cache.dir, { recursive: true });
  writeEntry(base, seqs);
  return seqs;
}
