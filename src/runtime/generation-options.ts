import type { TokenAlternative } from './token-confidence.ts';
import type { SamplerOptions } from './sampler.ts';

/**
 * How to pick each next token, and when to stop. The sampling fields (temperature, topK, topP,
 * minP, repetitionPenalty, seed) and their defaults are the Sampler's: {@link SamplerOptions} and
 * SAMPLER_DEFAULTS in sampler.ts.
 */
export interface GenerateOptions extends SamplerOptions {
  /** Most tokens to generate (default 256). */
  readonly maxTokens?: number;
  /** Generation stops before any of these strings; the stop string is not emitted. */
  readonly stop?: readonly string[];
  /** Extra end-of-sequence ids on top of the model's own (config, generation_config, tokenizer). */
  readonly eosTokenIds?: readonly number[];
  /**
   * Report how sure the model was of each token: every event then carries `logprob` and the
   * `logprobs` most likely tokens as `top` (0: `logprob` alone). Absent (the default): nothing is
   * computed. See token-confidence.ts for which distribution they come from.
   */
  readonly logprobs?: number;
  readonly signal?: AbortSignal;
}

/** One generated token. */
export interface TokenEvent {
  /** The token id; -1 on a last event that only flushes text held back at the end. */
  readonly id: number;
  /** The text this token made final (may be '' while a multi-byte character is incomplete). */
  readonly text: string;
  /**
   * With GenerateOptions.logprobs: natural log of this token's probability under the model's own
   * distribution (softmax of the logits, before temperature and the sampling filters).
   */
  readonly logprob?: number;
  /** With GenerateOptions.logprobs: the most likely tokens at this step, best first. */
  readonly top?: readonly TokenAlternative[];
}

/** Why generation ended. */
export type FinishReason = 'eos' | 'stop' | 'length' | 'aborted';
