// Choosing the next token from one row of logits [V], on the host: greedy (temperature 0) or nucleus
// sampling (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration", §3.1) at a
// temperature. The random number comes in as an argument, so the caller owns the seeded stream and
// a sample is a pure function of (logits, settings, u).

export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise the logits are divided by it before the softmax. */
  readonly temperature: number;
  /** Nucleus mass p ∈ (0, 1]: keep the most probable tokens whose probabilities first sum to ≥ p. */
  readonly topP: number;
}

/** The index of the largest logit; ties go to the lowest id (what torch.argmax and llama2.c pick). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

/**
 * The next token: argmax at temperature 0; else a draw from softmax(logits / T) restricted to the
 * nucleus of mass `topP` and renormalized. `u` ∈ [0, 1) is the uniform number that picks the token.
 */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, u: number): number {
  if (opts.temperature === 0) return argmax(logits);
  const V = logits.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] as number);
  const probs = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) total += probs[i] = Math.exp(((logits[i] as number) - max) / opts.temperature);
  // Most probable first; equal probabilities in id order, so the nucleus is the same on every run.
  const order = Array.from({ length: V }, (_, i) => i)
    .sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < V && (kept === 0 || mass < opts.topP * total)) mass += probs[order[kept++] as number] as number;
  let target = u * mass;
  for (let k = 0; k < kept; k++) {
    const id = order[k] as number;
    target -= probs[id] as number;
    if (target < 0) return id;
  }
  return order[kept - 1] as number; // u·mass at the top end of float rounding
}
