// Token sequences for language-model training from what a user names with --data / --valid:
//
//   notes.txt     the whole file tokenized once (BOS first if the tokenizer adds one) and cut into
//                 blocks of seqLen tokens. Consecutive blocks share one token, the last of one being
//                 the first of the next, because a block's first token is never predicted: this way
//                 every token after the first is a target exactly once. The remainder is kept as a
//                 shorter last block when it has at least two tokens (one prediction).
//   data.jsonl    one JSON object per line, either {"text": "..."} (tokenized, one sequence per
//                 line) or {"input_ids": [...]} (pre-tokenized; no tokenizer needed). A sequence
//                 longer than seqLen is truncated to its first seqLen tokens and counted; one of
//                 fewer than two tokens has nothing to predict and is dropped and counted. Blank
//                 lines are skipped.
//   sotu, brown, brown:<genre>
//                 a built-in corpus (sotu.ts, brown.ts): the documents of the requested split, each
//                 tokenized and cut like a .txt file of its own. Name a file called "sotu" as ./sotu.
//
// Every id is checked to be an integer in [0, vocabSize), the tokenizer's as well as the file's,
// so a tokenizer that does not match the model fails here and not as an out-of-range gather.
import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.ts";
import { BROWN_GENRE_NAMES, brownSplits } from "./brown.ts";
import type { DocumentSplits, SplitName, TextDocument } from "./documents.ts";
import { sotuSplits } from "./sotu.ts";

/** What this module needs of a tokenizer; adding BOS (or not) is the tokenizer's business. */
export interface LmTokenizer {
  encode(text: string): number[];
}

export interface LmTextOptions {
  /** Longest sequence, in tokens (the model's context); at least 2. */
  readonly seqLen: number;
  /** Ids must lie in [0, vocabSize). */
  readonly vocabSize: number;
  /** Needed for .txt, text lines and built-in corpora. */
  readonly tokenizer?: LmTokenizer | undefined;
  /** Which split of a built-in corpus (default "train"); ignored for files. */
  readonly split?: SplitName;
}

export interface LmSequences {
  /** Token ids, each of length 2..seqLen. */
  readonly sequences: readonly Int32Array[];
  /** Total tokens over all sequences. */
  readonly tokens: number;
  /** .jsonl lines cut to seqLen (0 for .txt and corpora, which are cut into blocks instead). */
  readonly truncated: number;
  /** .jsonl lines of fewer than two tokens, left out. */
  readonly dropped: number;
  /** Where they came from, for printouts: a path or "brown:news (validation, 4 documents)". */
  readonly description: string;
}

export const BUILT_IN_CORPORA = ["sotu", "brown", ...BROWN_GENRE_NAMES.map((g) => `brown:${g}`)] as const;

/** Cut one token stream into blocks of at most seqLen tokens sharing one token at each seam. */
export function blocks(ids: readonly number[], seqLen: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let start = 0; start < ids.length - 1; start += seqLen - 1) {
    out.push(Int32Array.from(ids.slice(start, start + seqLen)));
  }
  return out;
}

/** Read and tokenize `spec` (a .txt or .jsonl path, or a built-in corpus name) into sequences. */
export function loadLmText(spec: string, options: LmTextOptions): LmSequences {
  const { seqLen, vocabSize } = options;
  if (!(Number.isInteger(seqLen) && seqLen >= 2)) throw new UserError(`the sequence length must be an integer of at least 2, got ${seqLen}`);
  if (!(Number.isInteger(vocabSize) && vocabSize >= 1)) throw new UserError(`the vocabulary size must be a positive integer, got ${vocabSize}`);
  const corpus = corpusDocuments(spec, options.split ?? "train");
  if (corpus !== undefined) {
    const tok = needTokenizer(options.tokenizer, `the built-in corpus ${spec}`);
    const sequences = corpus.docs.flatMap((d) => blocks(checkIds(tok.encode(d.text), vocabSize, `${spec} document ${d.id}`), seqLen));
    return finish(sequences, 0, 0, `${spec} (${corpus.split}, ${corpus.docs.length} documents)`, spec);
  }
  if (spec.endsWith(".txt")) {
    const tok = needTokenizer(options.tokenizer, spec);
    return finish(blocks(checkIds(tok.encode(readText(spec)), vocabSize, spec), seqLen), 0, 0, spec, spec);
  }
  if (spec.endsWith(".jsonl")) return readJsonl(spec, options);
  throw new UserError(`${spec} is neither a .txt or .jsonl file nor a built-in corpus (${BUILT_IN_CORPORA.join(", ")})`);
}

/** The documents of a built-in corpus's `split`; undefined when `spec` names a file. */
export function corpusDocuments(
  spec: string,
  split: SplitName,
): { docs: readonly TextDocument[]; split: SplitName } | undefined {
  let splits: DocumentSplits;
  if (spec === "sotu") splits = sotuSplits();
  else if (spec === "brown") splits = brownSplits();
  else if (spec.startsWith("brown:")) splits = brownSplits(spec.slice("brown:".length));
  else return undefined;
  return { docs: splits[split], split };
}

function needTokenizer(tokenizer: LmTokenizer | undefined, what: string): LmTokenizer {
  if (tokenizer === undefined) throw new UserError(`${what} holds text, so it needs the model's tokenizer, and none was given`);
  return tokenizer;
}

function readText(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): check the path`);
  }
  if (text.trim() === "") throw new UserError(`${file} is empty: it needs text (or .jsonl lines) to make sequences from`);
  return text;
}

/** `ids` unchanged, once each is an integer in [0, vocabSize). */
function checkIds(ids: readonly unknown[], vocabSize: number, where: string): number[] {
  ids.forEach((id, i) => {
    if (!(Number.isInteger(id) && (id as number) >= 0 && (id as number) < vocabSize)) {
      throw new UserError(`${where} has token id ${JSON.stringify(id)} at position ${i}, outside the model's vocabulary [0, ${vocabSize})`);
    }
  });
  return ids as number[];
}

function readJsonl(file: string, { seqLen, vocabSize, tokenizer }: LmTextOptions): LmSequences {
  const sequences: Int32Array[] = [];
  let truncated = 0;
  let dropped = 0;
  readText(file)
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const where = `${file} line ${i + 1}`;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UserError(`${where} is not valid JSON: write one object per line, such as {"text": "..."}`);
      }
      const obj = typeof row === "object" && row !== null && !Array.isArray(row) ? (row as Record<string, unknown>) : {};
      const hasText = "text" in obj;
      const hasIds = "input_ids" in obj;
      if (hasText === hasIds) throw new UserError(`${where} must have exactly one of "text" or "input_ids", it has ${hasText ? "both" : "neither"}`);
      let ids: number[];
      if (hasText) {
        if (typeof obj.text !== "string") throw new UserError(`${where} has a "text" that is not a string`);
        ids = checkIds(needTokenizer(tokenizer, where).encode(obj.text), vocabSize, where);
      } else {
        if (!Array.isArray(obj.input_ids)) throw new UserError(`${where} has an "input_ids" that is not a list of integers`);
        ids = checkIds(obj.input_ids as unknown[], vocabSize, where);
      }
      if (ids.length < 2) return void dropped++;
      if (ids.length > seqLen) truncated++;
      sequences.push(Int32Array.from(ids.slice(0, seqLen)));
    });
  return finish(sequences, truncated, dropped, file, file);
}

function finish(
  sequences: Int32Array[],
  truncated: number,
  dropped: number,
  description: string,
  spec: string,
): LmSequences {
  if (sequences.length === 0) throw new UserError(`${spec} gives no sequence of at least two tokens to train or evaluate on`);
  const tokens = sequences.reduce((n, s) => n + s.length, 0);
  return { sequences, tokens, truncated, dropped, description };
}
