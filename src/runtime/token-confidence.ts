/**
 * How sure the model was of each token it wrote: the natural log of the chosen token's
 * probability and the most likely tokens at that step, under the model's own distribution
 * (softmax of the raw logits, temperature 1, before the repetition penalty and every sampling
 * filter). That is what the model believes whatever the sampling settings: under greedy sampling
 * the distribution actually sampled from is a point mass, and its log-probability (0) says nothing.
 * Computed only when generate is asked for it (GenerateOptions.logprobs): three passes over V.
 */

/** One of the most likely tokens at a step. */
export interface TokenAlternative {
  readonly id: number;
  /** The token's text on its own (a byte-level token inside a multi-byte character shows U+FFFD). */
  readonly text: string;
  /** Natural log of its probability. */
  readonly logprob: number;
}

/** The chosen token's log-probability and the `n` most likely tokens (best first, ties to the lower id). */
export function tokenConfidence(
  logits: Float32Array,
  id: number,
  n: number,
  text: (id: number) => string,
): { readonly logprob: number; readonly top: TokenAlternative[] } {
  const V = logits.length;
  // log-sum-exp with the max subtracted; NaN counts as -Infinity, as in the sampler
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const l = logits[i]!;
    if (l === l) sum += Math.exp(l - max);
  }
  const logZ = max + Math.log(sum);
  const logprobOf = (i: number) => {
    const l = logits[i]!;
    return l === l ? l - logZ : -Infinity;
  };
  // the top n by insertion into a short sorted list: O(V n), n is a handful
  const k = Math.max(0, Math.min(Math.floor(n), V));
  const best: number[] = [];
  for (let i = 0; i < V && k > 0; i++) {
    const l = logits[i]!;
    if (!(l === l)) continue;
    if (best.length === k && l <= logits[best[k - 1]!]!) continue;
    let j = Math.min(best.length, k - 1);
    while (j > 0 && logits[best[j - 1]!]! < l) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return { logprob: logprobOf(id), top: best.map((i) => ({ id: i, text: text(i), logprob: logprobOf(i) })) };
}
