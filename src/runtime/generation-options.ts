/** How to pick each next token, and when to stop. */
export interface GenerateOptions {
  /** Most tokens to generate (default 256). */
  readonly maxTokens?: number;
  /** 0 = greedy (default 0.7 for chat in the element; 0 here). */
  readonly temperature?: number;
  /** Keep only the K most likely tokens (0 = off). */
  readonly topK?: number;
  /** Keep the smallest set of tokens whose probability reaches P (1 = off). */
  readonly topP?: number;
  /** Drop tokens less likely than minP times the most likely one (0 = off). */
  readonly minP?: number;
  /** > 1 discourages tokens already in the context (HF semantics; 1 = off). */
  readonly repetitionPenalty?: number;
  /** Seed of the sampler: the same seed and input give the same text. */
  readonly seed?: number;
  /** Generation stops before any of these strings; the stop string is not emitted. */
  readonly stop?: readonly string[];
  /** Extra end-of-sequence ids on top of the model's own (config, generation_config, tokenizer). */
  readonly eosTokenIds?: readonly number[];
  readonly signal?: AbortSignal;
}

/** One generated token. */
export interface TokenEvent {
  /** The token id; -1 on a last event that only flushes text held back at the end. */
  readonly id: number;
  /** The text this token made final (may be '' while a multi-byte character is incomplete). */
  readonly text: string;
}

/** Why generation ended. */
export type FinishReason = 'eos' | 'stop' | 'length' | 'aborted';
