// Types for @huggingface/tokenizers 0.2.0, the part of its API lorascope calls, copied from the
// package's own declarations. Those declarations (types/index.d.ts) re-export from relative paths
// without file extensions ("./core/Tokenizer"), which NodeNext resolution rejects inside an ESM
// package, so every name imported from the package was unresolved: tsc let that pass silently
// (skipLibCheck hides the error, and an unresolved type reads as `any`), the type-aware lint did not.
// An ambient module declaration takes precedence over the package's own types; drop this file once
// a release ships declarations that resolve under NodeNext.
declare module "@huggingface/tokenizers" {
  export interface Encoding {
    ids: number[];
    tokens: string[];
    attention_mask: number[];
    token_type_ids?: number[];
  }

  export interface EncodeOptions {
    text_pair?: string | null;
    add_special_tokens?: boolean;
    return_token_type_ids?: boolean | null;
  }

  export interface DecodeOptions {
    skip_special_tokens?: boolean;
    clean_up_tokenization_spaces?: boolean | null;
  }

  export interface TokenizeOptions {
    text_pair?: string | null;
    add_special_tokens?: boolean;
  }

  export class Tokenizer {
    /** Parsed tokenizer.json and tokenizer_config.json. */
    constructor(tokenizer: object, config: object);
    encode(text: string, options?: EncodeOptions): Encoding;
    decode(token_ids: number[] | bigint[], options?: DecodeOptions): string;
    tokenize(text: string, options?: TokenizeOptions): string[];
    /** The token's id, or undefined if it is not in the vocabulary. */
    token_to_id(token: string): number | undefined;
    /** The id's token, or undefined if the id is not in the vocabulary. */
    id_to_token(id: number): string | undefined;
    get_vocab(with_added_tokens?: boolean): Map<string, number>;
  }
}
