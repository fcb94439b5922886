// Text generation with a KV cache: the prompt runs once (prefill), then each new token is one call of
// the decoder's jitted step (models/lm.ts `decoder`), its logits read back and the next token chosen
// on the host (models/sample.ts). Sampling draws u_t from fold(key(seed), t), so a seed fixes the text.
//
// Streaming: decoding a SentencePiece or byte-level BPE sequence piece by piece can split a UTF-8
// character over two tokens (the first decodes to U+FFFD), and a piece's leading space depends on
// what precedes it. `TextStream` therefore decodes the whole sequence each time and emits only the
// new suffix, holding it back while it ends in an incomplete character.
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Params } from "../core/tree.ts";
import { np, read, refTree, type Tensor } from "../engine/index.ts";
import type { Ctx } from "../nn/context.ts";
import { decoder, maxPositions, type LmConfig } from "./lm.ts";
import { sampleToken, type SamplingOptions } from "./sample.ts";
import type { TextTokenizer } from "./tokenizer.ts";

export interface GenerateOptions extends SamplingOptions {
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Stop after this token (it is kept in the output ids); none when undefined. */
  readonly eosId: number | undefined;
  /** A LoRA context for an unmerged adapter; absent for plain (or merged) weights. */
  readonly ctx?: Ctx;
  /** Called with each new token as soon as it is chosen. */
  readonly onToken?: (id: number) => void;
}

export interface Generation {
  /** The new tokens (the EOS token included when generation stopped at it). */
  readonly tokens: number[];
  readonly finish: "eos" | "length";
  /** Seconds from the start of the prefill to the last token. */
  readonly seconds: number;
}

/** The logits of the last position of [1, T, V] as a host row [V]. Consumes `logits`. */
async function lastRow(logits: Tensor): Promise<Float32Array> {
  const T = logits.shape[1] as number;
  // A decode step's logits are the row already; slicing would cost one more eager kernel per token.
  const row = T === 1 ? logits : logits.slice([], [T - 1, T]); // [1, 1, V]
  const data = await read(row);
  row.dispose();
  return data;
}

/** Continue `prompt` (ids, at least one) by up to `maxNewTokens` tokens. Borrows `params`. */
export async function generate(
  params: Params,
  cfg: LmConfig,
  prompt: readonly number[],
  opts: GenerateOptions,
): Promise<Generation> {
  if (prompt.length === 0) throw new UserError("the prompt has no tokens; give some text or a tokenizer that adds a BOS token");
  const length = prompt.length + opts.maxNewTokens;
  if (length > maxPositions(cfg)) {
    throw new UserError(
      `the prompt's ${prompt.length} tokens plus ${opts.maxNewTokens} new ones exceed the model's ${maxPositions(cfg)} positions; lower --max-new-tokens`,
    );
  }
  const key = prng.key(opts.seed);
  const choose = (row: Float32Array, t: number): number =>
    sampleToken(row, opts, prng.uniform(prng.fold(key, t), [1])[0] as number);
  const start = performance.now();
  const dec = decoder(cfg, length, opts.ctx);
  const tokens: number[] = [];
  let finish: Generation["finish"] = "length";
  try {
    const ids = np.array(Int32Array.from(prompt)).reshape([1, prompt.length]);
    const pre = dec.prefill(refTree(params), ids);
    let cache = pre.cache;
    let next = choose(await lastRow(pre.logits), 0);
    try {
      for (let t = 0; ; t++) {
        tokens.push(next);
        opts.onToken?.(next);
        if (next === opts.eosId) {
          finish = "eos";
          break;
        }
        if (tokens.length === opts.maxNewTokens) break;
        const step = dec.step(refTree(params), cache, np.array(Int32Array.of(next)).reshape([1, 1]), prompt.length + t);
        cache = step.cache;
        next = choose(await lastRow(step.logits), t + 1);
      }
    } finally {
      for (const k of [...cache.k, ...cache.v]) k.dispose();
    }
  } finally {
    dec.dispose();
  }
  return { tokens, finish, seconds: (performance.now() - start) / 1000 };
}

/** Turns a growing id sequence into text pieces safe to print (see the file comment). */
export class TextStream {
  private readonly ids: number[];
  private printed = "";

  /** `prefix`: ids already there (the prompt), whose text is not emitted. */
  constructor(
    private readonly tokenizer: TextTokenizer,
    prefix: readonly number[] = [],
  ) {
    this.ids = [...prefix];
    this.printed = this.text();
  }

  /** The whole sequence's text, special tokens left out. */
  text(): string {
    return this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
  }

  /** Add a token; returns the text that became final ("" while a character is incomplete). */
  push(id: number): string {
    this.ids.push(id);
    return this.emit(false);
  }

  /** Whatever is left at the end, incomplete characters included. */
  flush(): string {
    return this.emit(true);
  }

  private emit(final: boolean): string {
    const text = this.text();
    if (!final && text.endsWith("\uFFFD")) return "";
    // Decoding only appends (byte fallback and leading-space rules act at the sequence's start, which
    // is printed already); should a rule rewrite printed text, nothing is taken back and the stream
    // goes on from the new text's length.
    const piece = text.slice(this.printed.length);
    this.printed = text;
    return piece;
  }
}
