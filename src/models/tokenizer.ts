// The text tokenizer of a Hugging Face model folder: `tokenizer.json` (+ `tokenizer_config.json`) run
// by @huggingface/tokenizers, a pure-JS port of the tokenizers library that reads the same files.
// Measured identical to Python sentencepiece (Llama vocabularies) and tiktoken (GPT-2) on thousands of
// strings when `clean_up_tokenization_spaces` is false for SentencePiece-style vocabularies, which is
// why decode takes that flag from the config rather than the library's default (true).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { UserError } from "../core/errors.ts";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

export interface TextTokenizer {
  /** Number of ids, added tokens included. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Token ids of `text`, with the special tokens the post-processor adds (Llama: BOS first). */
  encode(text: string, opts?: { readonly addSpecialTokens?: boolean }): number[];
  /** The pieces of `text` as tokenizer.json spells them (e.g. "▁Once"). */
  tokens(text: string, opts?: { readonly addSpecialTokens?: boolean }): string[];
  /** Text of `ids`; special tokens are written out unless skipped. */
  decode(ids: readonly number[], opts?: { readonly skipSpecialTokens?: boolean }): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

type Json = Record<string, unknown>;

/** The token named by a config field, which is either a string or an AddedToken object {content}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as Json)["content"] === "string") return (v as Json)["content"] as string;
  return undefined;
}

/**
 * A tokenizer from parsed tokenizer.json and tokenizer_config.json objects; `source` names the
 * tokenizer.json in errors.
 */
export function tokenizerFromJson(tokenizerJson: Json, config: Json = {}, source = TOKENIZER_FILE): TextTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, config);
  } catch (err) {
    throw new UserError(`${source} is not a tokenizer the tokenizers library can run (${err instanceof Error ? err.message : String(err)})`);
  }
  const cleanup = config["clean_up_tokenization_spaces"] === true;
  const idOf = (field: string): number | undefined => {
    const name = tokenName(config[field]);
    return name === undefined ? undefined : tok.token_to_id(name);
  };
  return {
    vocabSize: tok.get_vocab(true).size,
    bosId: idOf("bos_token"),
    eosId: idOf("eos_token"),
    encode: (text, opts = {}) => tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids,
    tokens: (text, opts = {}) => tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).tokens,
    decode: (ids, opts = {}) =>
      tok.decode([...ids], {
        skip_special_tokens: opts.skipSpecialTokens ?? false,
        clean_up_tokenization_spaces: cleanup,
      }),
    idToToken: (id) => tok.id_to_token(id),
    tokenToId: (token) => tok.token_to_id(token),
  };
}

async function readJson(file: string, required: boolean): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw new UserError(
      code === "ENOENT"
        ? `${file} does not exist; a model folder needs a ${TOKENIZER_FILE} to turn text into token ids`
        : `cannot read ${file} (${code ?? String(err)})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UserError(`${file} is not a JSON object`);
  return parsed as Json;
}

/** Load the tokenizer of a model folder (tokenizer.json required, tokenizer_config.json optional). */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const json = await readJson(path.join(dir, TOKENIZER_FILE), true);
  const config = (await readJson(path.join(dir, TOKENIZER_CONFIG_FILE), false)) ?? {};
  return tokenizerFromJson(json as Json, config, path.join(dir, TOKENIZER_FILE));
}
