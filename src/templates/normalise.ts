/**
 * Turning candidate log-probabilities into one score per candidate and probabilities over the
 * candidates. Pure functions on plain numbers (natural logs), tested on hand-computed values.
 *
 * Every normalisation is a score s_i per candidate; the probabilities are softmax(s), i.e. the
 * candidates' (normalised) likelihoods renormalised to sum to 1 over the candidate set.
 */
import { GptError } from '../errors.ts';

/** log(sum(exp(x))), stable; -Infinity for an empty list or all -Infinity. */
export function logSumExp(x: readonly number[]): number {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** exp(x_i) / sum(exp(x)); candidates at -Infinity get 0. Uniform when every score is -Infinity. */
export function softmax(x: readonly number[]): number[] {
  const z = logSumExp(x);
  if (z === -Infinity) return x.map(() => 1 / x.length);
  return x.map((v) => Math.exp(v - z));
}

/** Per-token mean log-probability: total_i / tokens_i (the geometric mean probability per token). */
export function perTokenMean(totals: readonly number[], tokenCounts: readonly number[]): number[] {
  return totals.map((t, i) => t / Math.max(1, tokenCounts[i]!));
}

/**
 * Length normalisation as in the GPT-3 evaluations (and lm-evaluation-harness `acc_norm`): the
 * total divided by the continuation's length in UTF-8 bytes, so the score does not depend on how
 * a tokenizer happens to split the option.
 */
export function perByteMean(totals: readonly number[], texts: readonly string[]): number[] {
  const encoder = new TextEncoder();
  return totals.map((t, i) => t / Math.max(1, encoder.encode(texts[i]!).length));
}

/**
 * GPT-3's unconditional normalisation: log p(option | prompt) - log p(option | answer stem),
 * i.e. how much more likely the context makes the option than it is a priori.
 */
export function unconditionalNormalised(totals: readonly number[], unconditionalTotals: readonly number[]): number[] {
  return totals.map((t, i) => t - unconditionalTotals[i]!);
}

/**
 * The content-free label distribution of "Calibrate Before Use" (Zhao et al. 2021): for each
 * content-free input the summed label log-probabilities renormalised over the labels, then the
 * average of those distributions (their p̂_cf, averaged over "N/A", "", "[MASK]" in the paper).
 */
export function contentFreeDistribution(contentFreeTotals: readonly (readonly number[])[]): number[] {
  if (contentFreeTotals.length === 0) throw new GptError('bad-argument', 'calibration needs at least one content-free input.');
  const n = contentFreeTotals[0]!.length;
  const avg = new Array<number>(n).fill(0);
  for (const totals of contentFreeTotals) softmax(totals).forEach((p, i) => (avg[i]! += p / contentFreeTotals.length));
  return avg;
}

/**
 * Calibrated scores: log p_i - log p_cf_i, so softmax of them is (p / p_cf) renormalised, the
 * paper's W = diag(p_cf)^-1, b = 0 with the label probabilities p renormalised over the labels
 * first (a constant that softmax removes).
 */
export function calibrated(totals: readonly number[], contentFree: readonly number[]): number[] {
  return totals.map((t, i) => t - Math.log(contentFree[i]!));
}

/** Index of the largest score (the first of equals). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
