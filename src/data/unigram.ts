// The unigram baseline of a language model: every token predicted by its frequency in the training
// targets, whatever came before. A pretrained model whose held-out perplexity is well below this one's
// has learned more than word frequencies. Counted over the predicted tokens only (each sequence's
// first token is context, never a target, as in the causal-LM loss), with add-one smoothing so a
// token unseen in training has a finite cost.

export interface UnigramBaseline {
  /** Mean negative log-probability (nats) of the held-out targets. */
  readonly loss: number;
  readonly perplexity: number;
  /** Held-out tokens predicted. */
  readonly tokens: number;
}

/** The add-one unigram model of `train`'s targets, scored on `held`'s targets. */
export function unigramBaseline(
  train: readonly Int32Array[],
  held: readonly Int32Array[],
  vocabSize: number,
): UnigramBaseline {
  const counts = new Float64Array(vocabSize).fill(1);
  let total = vocabSize;
  for (const seq of train) {
    for (let i = 1; i < seq.length; i++) {
      const id = seq[i] as number;
      counts[id] = (counts[id] as number) + 1;
    }
    total += Math.max(0, seq.length - 1);
  }
  let nll = 0;
  let tokens = 0;
  for (const seq of held) {
    for (let i = 1; i < seq.length; i++) nll -= Math.log((counts[seq[i] as number] as number) / total);
    tokens += Math.max(0, seq.length - 1);
  }
  const loss = tokens === 0 ? NaN : nll / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}
