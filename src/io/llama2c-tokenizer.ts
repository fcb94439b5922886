// llama2.c tokenizer files (`tokenizer.bin`, `tok512.bin`) and their Hugging Face `tokenizer.json`.
//
// File layout (llama2.c tokenizer.py `export`, read by run.c `build_tokenizer`): int32
// max_token_length, then per token id: float32 score, int32 byte length, the piece's UTF-8 bytes. The
// pieces are a SentencePiece BPE vocabulary with "▁" written as a space; ids 0/1/2 are written
// "<unk>", "\n<s>\n", "\n</s>\n"; byte-fallback pieces are "<0x00>"…"<0xFF>".
//
// run.c encodes by prepending a space (when the text is not empty), splitting into code points
// (a code point not in the vocabulary becomes its UTF-8 bytes' <0xNN> pieces), then repeatedly merging
// the adjacent pair whose concatenation is a piece with the highest score. The tokenizer.json written
// here does the same in HF's terms: normalizer Prepend("▁") + Replace(" " → "▁"), a BPE model with
// byte_fallback whose merges are ordered by the merged piece's score (best first), and a
// TemplateProcessing post-processor that prepends <s> as Llama's tokenizer does.
import { UserError } from "../core/errors.ts";

export interface Llama2cPiece {
  /** The piece with "▁" marking a word start (as SentencePiece and tokenizer.json spell it). */
  readonly piece: string;
  readonly score: number;
}

export interface Llama2cTokenizer {
  readonly maxTokenLength: number;
  /** Indexed by token id. */
  readonly pieces: readonly Llama2cPiece[];
}

export const UNK = "<unk>";
export const BOS = "<s>";
export const EOS = "</s>";
const SPECIALS = [UNK, BOS, EOS] as const;
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

/**
 * Parse a llama2.c tokenizer file; `source` names it in errors. `vocabSize`, when given (from the
 * checkpoint's header), must match the number of pieces in the file.
 */
export function readLlama2cTokenizer(bytes: Uint8Array, source: string, vocabSize?: number): Llama2cTokenizer {
  const bad = (problem: string): UserError => new UserError(`${source} is not a llama2.c tokenizer file: ${problem}`);
  if (bytes.length < 4) throw bad(`it is ${bytes.length} bytes long, shorter than the 4-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getInt32(0, true);
  if (!(maxTokenLength > 0 && maxTokenLength <= 1024)) throw bad(`its max_token_length is ${maxTokenLength}`);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const pieces: Llama2cPiece[] = [];
  let at = 4;
  while (at < bytes.length) {
    const id = pieces.length;
    if (at + 8 > bytes.length) throw bad(`token ${id} is cut off after ${bytes.length - at} bytes (truncated?)`);
    const score = view.getFloat32(at, true);
    const len = view.getInt32(at + 4, true);
    if (len < 0 || len > maxTokenLength) throw bad(`token ${id} has length ${len}, outside 0..max_token_length ${maxTokenLength}`);
    if (at + 8 + len > bytes.length) throw bad(`token ${id} needs ${len} bytes but the file ends first (truncated?)`);
    let text: string;
    try {
      text = utf8.decode(bytes.subarray(at + 8, at + 8 + len));
    } catch {
      throw bad(`token ${id} is not UTF-8 text`);
    }
    at += 8 + len;
    // Specials are written with surrounding newlines ("\n<s>\n"); everything else has ▁ as a space.
    const special = SPECIALS[id];
    if (special !== undefined) {
      if (text.trim() !== special) throw bad(`token ${id} is ${JSON.stringify(text)}, expected ${special}`);
      text = special;
    } else text = text.replaceAll(" ", "▁");
    pieces.push({ piece: text, score });
  }
  if (pieces.length < 3 + 256) throw bad(`it has ${pieces.length} pieces, fewer than the 3 specials and 256 byte pieces`);
  if (vocabSize !== undefined && pieces.length !== vocabSize) {
    throw bad(`it has ${pieces.length} pieces but the checkpoint's vocab_size is ${vocabSize}`);
  }
  return { maxTokenLength, pieces };
}

/**
 * BPE merges from a SentencePiece vocabulary: every split of a merged piece into two pieces of the
 * vocabulary, best merged-piece score first (run.c merges the best-scoring pair first), and for one
 * merged piece by the halves' ids (as transformers' SentencePieceExtractor orders them).
 * Specials and byte pieces are neither merged nor halves.
 */
export function bpeMerges(pieces: readonly Llama2cPiece[]): Array<[string, string]> {
  const ids = new Map<string, number>();
  const mergeable = (id: number, p: string): boolean => id >= SPECIALS.length && !BYTE_PIECE.test(p);
  pieces.forEach(({ piece }, id) => {
    if (mergeable(id, piece) && !ids.has(piece)) ids.set(piece, id);
  });
  const found: Array<{ left: string; right: string; score: number; l: number; r: number; order: number }> = [];
  pieces.forEach(({ piece, score }, id) => {
    if (!mergeable(id, piece)) return;
    const chars = Array.from(piece); // split at code points, never inside a surrogate pair
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join("");
      const right = chars.slice(k).join("");
      const l = ids.get(left);
      const r = ids.get(right);
      if (l !== undefined && r !== undefined) found.push({ left, right, score, l, r, order: found.length });
    }
  });
  found.sort((a, b) => b.score - a.score || a.l - b.l || a.r - b.r || a.order - b.order);
  return found.map((m) => [m.left, m.right]);
}

/** A tokenizer.json object (the tokenizers library's serialization, version 1.0). */
export type TokenizerJson = Record<string, unknown>;

/** The Hugging Face tokenizer.json for a llama2.c vocabulary (Llama-2's layout, legacy spacing). */
export function llama2cTokenizerJson(tok: Llama2cTokenizer): TokenizerJson {
  const vocab: Record<string, number> = {};
  tok.pieces.forEach(({ piece }, id) => {
    if (!(piece in vocab)) vocab[piece] = id;
  });
  const added = SPECIALS.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: BOS, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [BOS]: { id: BOS, ids: [1], tokens: [BOS] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        // Drop the one space the normalizer prepended.
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: UNK,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: bpeMerges(tok.pieces),
    },
  };
}

/** tokenizer_config.json beside it: BOS added, and no cleanup of spaces before punctuation on decoding. */
export function llama2cTokenizerConfig(maxLength: number): Record<string, unknown> {
  return {
    // The generic class runs tokenizer.json as written. transformers 5 rebuilds a "LlamaTokenizerFast"
    // from its vocabulary with a Metaspace pre-tokenizer that drops one of the "▁" run.c puts before a
    // leading space ("  two" → ▁ ▁t instead of ▁ ▁ ▁t).
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: BOS,
    eos_token: EOS,
    unk_token: UNK,
    pad_token: null,
    add_bos_token: true,
    add_eos_token: false,
    // SentencePiece tokenizers decode spaces exactly; the cleanup would rewrite " ," → "," and so on.
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    added_tokens_decoder: Object.fromEntries(
      SPECIALS.map((content, id) => [
        String(id),
        { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
  };
}
