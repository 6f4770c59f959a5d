import { encodeChat, type ChatMessage, type ChatTemplate } from './chat-template.ts';
import { StreamingDetokenizer } from './detokenizer.ts';
import { GptError } from '../errors.ts';
import type { FinishReason, GenerateOptions, TokenEvent } from './generation-options.ts';
import type { ContinuationScore, GptModel } from './model/gpt-model.ts';
import { Sampler } from './sampler.ts';
import { StopStringMatcher } from './stop-strings.ts';
import { tokenConfidence } from './token-confidence.ts';
import type { TextTokenizer } from './tokenizer.ts';
import { knownPromptPrefix } from './prompt-prefix.ts';

/** Characters a token covers at most, for refusing oversized text before tokenizing it. */
export const MAX_CHARS_PER_TOKEN = 64;

/** What `generate` returns when it finishes. */
export interface GenerateResult {
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  /** Of the prompt's tokens, those the KV cache already held (the rest were prefilled). */
  readonly cachedPromptTokens: number;
  readonly generatedTokens: number;
  /** The whole generated text (stop string excluded). */
  readonly text: string;
}

/** Input of `generate`: plain text to continue, chat messages, or token ids. */
export type GenerateInput = string | readonly ChatMessage[] | { readonly ids: ArrayLike<number> };

/**
 * A loaded model with its tokenizer and chat template: the text-level API. Token-level access
 * (prefill, decode, scoring, rewind) is on {@link LanguageModel.model}.
 */
export class LanguageModel {
  constructor(
    /** The token-level model: prefill, decode, scoreContinuation, rewind. */
    readonly model: GptModel,
    readonly tokenizer: TextTokenizer,
    readonly chatTemplate: ChatTemplate,
    /** End-of-sequence ids from config.json, generation_config.json and tokenizer_config.json. */
    readonly eosTokenIds: readonly number[],
    /** Where the model was loaded from. */
    readonly location: string,
    /** Something the user should know about how the model runs (e.g. the CPU fallback). */
    readonly notice?: string,
    /** A fingerprint of the weights (model/weights-fingerprint.ts): which checkpoint this is. */
    readonly weightsHash = '',
    /** Why this backend runs, in a few words ("asked for", "WebGPU here runs in software ..."). */
    readonly backendReason: string = 'asked for',
  ) {}

  /** Which backend runs the forward pass. */
  get backendKind(): 'cpu' | 'webgpu' {
    return this.model.backendKind;
  }

  get config() {
    return this.model.config;
  }

  get contextLength(): number {
    return this.model.contextLength;
  }

  /** Token ids of `input` as `generate` would feed them. User text never produces special tokens. */
  encode(input: GenerateInput): number[] {
    if (typeof input === 'string') {
      this.#refuseOversized(input.length, 'The prompt');
      return this.tokenizer.encodePrompt(input);
    }
    if ('ids' in input) return Array.from(input.ids);
    for (const m of input as readonly ChatMessage[]) this.#refuseOversized(m.content.length, `A ${m.role} message`);
    return encodeChat(this.tokenizer, this.chatTemplate, input as readonly ChatMessage[]);
  }

  /**
   * Throws context-overflow for text that cannot fit the context window whatever its tokens, before
   * tokenizing it: a pasted megabyte would otherwise keep the tokenizer busy for seconds only to
   * be refused. No vocabulary we load has tokens near {@link MAX_CHARS_PER_TOKEN} characters.
   */
  #refuseOversized(chars: number, what: string): void {
    if (chars <= this.contextLength * MAX_CHARS_PER_TOKEN) return;
    throw new GptError(
      'context-overflow',
      `${what} is ${chars} characters, far more than the ${this.contextLength}-token context window can hold. HINT: shorten it, or split it over several messages.`,
    );
  }

  /**
   * Generates tokens after `input`, yielding each as it is chosen. The KV cache keeps the longest
   * common prefix with the previous call, so a chat only prefills its new turn.
   * Ends on an EOS id, a stop string, `maxTokens`, the end of the context window, or `signal`.
   */
  async *generate(input: GenerateInput, options: GenerateOptions = {}): AsyncGenerator<TokenEvent, GenerateResult> {
    const { signal } = options;
    const maxTokens = options.maxTokens ?? 256;
    const promptIds = this.encode(input);
    if (promptIds.length === 0) throw new GptError('bad-argument', 'generate needs a non-empty prompt.');
    if (promptIds.length >= this.contextLength) {
      throw new GptError(
        'context-overflow',
        `The prompt is ${promptIds.length} tokens but the context window holds ${this.contextLength}; leave room for the reply by shortening it or dropping older turns.`,
      );
    }
    const eos = new Set([...this.eosTokenIds, ...(options.eosTokenIds ?? [])]);
    const sampler = new Sampler(options); // its defaults are generate's (SAMPLER_DEFAULTS)
    const { logprobs } = options;
    if (logprobs !== undefined && !(Number.isInteger(logprobs) && logprobs >= 0 && logprobs <= 20)) {
      throw new GptError('bad-argument', `logprobs is ${logprobs}; expected an integer from 0 to 20 (how many of the most likely tokens to report).`);
    }
    const alternativeText = (id: number) => this.tokenizer.decode([id]);
    const detok = new StreamingDetokenizer(this.tokenizer);
    const chatStops = typeof input !== 'string' && !('ids' in input) ? this.chatTemplate.stopStrings : [];
    const stops = new StopStringMatcher([...(options.stop ?? []), ...chatStops]);
    let text = '';
    let generated = 0;
    let finishReason: FinishReason = 'length';

    // The backend picks each token after the first, greedy or sampled (a GPU then reads back 8
    // bytes a step, not the V logits); the first comes from the prompt's logits. A repetition
    // penalty needs the history and token confidence every step's logits: those keep them coming.
    const onBackend = sampler.onBackend && logprobs === undefined;
    signal?.throwIfAborted();
    const cachedPromptTokens = this.model.cachedPrefix(promptIds);
    let logits: Float32Array | null = await this.model.sync(promptIds, signal);
    let picked = -1; // the backend's choice when logits is null
    while (generated < maxTokens) {
      if (signal?.aborted) {
        finishReason = 'aborted';
        break;
      }
      const id = logits === null ? picked : sampler.sample(logits, this.model.tokens);
      if (eos.has(id)) {
        finishReason = 'eos';
        break;
      }
      generated++;
      const stop = stops.push(detok.push(id));
      text += stop.text;
      yield logprobs === undefined || logits === null ? { id, text: stop.text } : { id, text: stop.text, ...tokenConfidence(logits, id, logprobs, alternativeText) };
      if (stop.stopped) {
        finishReason = 'stop';
        break;
      }
      if (this.model.position >= this.contextLength) break; // context full: 'length'
      if (onBackend) {
        picked = sampler.greedy ? await this.model.decodeGreedy(id) : await this.model.decodeSampled(id, sampler);
        logits = null;
      } else logits = await this.model.decode(id);
    }
    if (finishReason !== 'stop') {
      const rest = stops.end(detok.flush());
      if (rest) {
        text += rest;
        yield { id: -1, text: rest };
      }
    }
    return { finishReason, promptTokens: promptIds.length, cachedPromptTokens, generatedTokens: generated, text };
  }

  /**
   * Prefills the part of the next chat prompt that is already known: `messages` (the conversation
   * so far) rendered up to where the next user message's text begins (see knownPromptPrefix). A
   * `generate` of `messages` plus that message then prefills only its new turn. Returns the
   * prefix's length in tokens; 0 when there is none or it would not fit.
   */
  async warm(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<number> {
    const prefix = knownPromptPrefix((m) => this.encode(m), messages);
    if (prefix.length === 0 || prefix.length >= this.contextLength) return 0;
    // Already there (the previous prompt began with it): keep the cache, and what follows, as it is.
    const cached = this.model.tokens;
    if (cached.length < prefix.length || prefix.some((id, i) => cached[i] !== id)) await this.model.sync(prefix, signal);
    return prefix.length;
  }

  /**
   * log p(continuation | prefix), natural log, reusing the prefix's KV cache: score many
   * continuations after one prefix and the prefix is computed once.
   */
  async scoreContinuation(prefixIds: ArrayLike<number>, continuationIds: ArrayLike<number>, signal?: AbortSignal): Promise<ContinuationScore> {
    await this.model.sync(prefixIds, signal);
    return this.model.scoreContinuation(continuationIds, signal);
  }

  /**
   * The final hidden state (C floats, after the final norm) after each of `positions` of `ids`
   * (default the last token), as (P, C) rows: see {@link GptModel.hiddenStates}.
   */
  hiddenStates(ids: ArrayLike<number>, positions?: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    return this.model.hiddenStates(ids, positions, signal);
  }

  /** Tokens in the KV cache and bytes the backend holds: debug counters for leak checks. */
  stats(): { readonly kvPosition: number; readonly backendBytes: number } {
    return { kvPosition: this.model.position, backendBytes: this.model.backend.bytesAllocated };
  }

  dispose(): void {
    this.model.dispose();
  }
}
