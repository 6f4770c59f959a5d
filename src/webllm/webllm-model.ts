/**
 * A web-llm MLCEngine as the engine's {@link LoadedModel}: the same streaming generate, abort,
 * token counts and dispose as our runtime, so InPageEngine (and the worker around it) drives
 * either without knowing which. web-llm streams text, not token ids, so every piece carries
 * id -1 (the runtime's marker for text not tied to one token).
 */
import type { ChatMessage, FinishReason, GenerationEnd, SamplingOptions } from '../engine/engine.ts';
import type { LoadedModel } from '../engine/load-model.ts';
import { GptError } from '../errors.ts';
import type { WebLlmChatRequest, WebLlmChunk, WebLlmEngine } from './webllm-api.ts';
import { webLlmError } from './webllm-errors.ts';

/**
 * web-llm keeps its tokenizer private (MLCEngine has no encode), so counts are estimated: English
 * BPE text averages ~4 characters a token; 3 over-counts on purpose, so that trimming old turns to
 * fit the context errs on the side of room to spare. Plus the chat template's role markers.
 */
const CHARS_PER_TOKEN = 3;
const TOKENS_PER_MESSAGE = 6;

/** An MLCEngine with one model loaded, adapted to {@link LoadedModel}. */
export class WebLlmModel implements LoadedModel {
  readonly backendKind = 'webllm' as const;
  readonly config: { readonly modelType: string };
  #disposed = false;

  /**
   * @param engine an MLCEngine whose `reload(modelId)` has finished
   * @param modelId the prebuilt id it loaded (shown as the model type)
   * @param contextLength its context window in tokens
   * @param notice something the user should know (shown under the chat)
   */
  constructor(
    private readonly engine: WebLlmEngine,
    readonly modelId: string,
    readonly contextLength: number,
    readonly notice?: string,
  ) {
    this.config = { modelType: modelId };
  }

  /** Streams the reply to `messages`; `signal` interrupts web-llm and ends with 'aborted'. */
  async *generate(
    messages: readonly ChatMessage[],
    options: SamplingOptions & { readonly signal?: AbortSignal },
  ): AsyncGenerator<{ readonly id: number; readonly text: string }, GenerationEnd> {
    if (this.#disposed) throw new GptError('disposed', 'This web-llm model was disposed; load it again.');
    const { signal } = options;
    const estimate = this.encode(messages).length;
    if (signal?.aborted) return { finishReason: 'aborted', promptTokens: 0, generatedTokens: 0 };
    const interrupt = () => void Promise.resolve(this.engine.interruptGenerate()).catch(() => {});
    signal?.addEventListener('abort', interrupt, { once: true });
    let pieces = 0;
    let finish: WebLlmChunk['choices'][number]['finish_reason'] = null;
    let usage: WebLlmChunk['usage'];
    let ended = false;
    try {
      const stream = await this.engine.chat.completions.create(chatRequest(messages, options));
      // An abort while the request was being set up may have reached web-llm before it started.
      if (signal?.aborted) interrupt();
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (chunk.usage) usage = chunk.usage;
        if (choice?.finish_reason) finish = choice.finish_reason;
        // Read on after an abort (web-llm ends the stream at once) so its per-model lock is released.
        const text = choice?.delta.content;
        if (text && !signal?.aborted) {
          pieces++;
          yield { id: -1, text };
        }
      }
      ended = true;
    } catch (e) {
      if (signal?.aborted) return { finishReason: 'aborted', promptTokens: usage?.prompt_tokens ?? estimate, generatedTokens: pieces };
      throw webLlmError(e);
    } finally {
      signal?.removeEventListener('abort', interrupt);
      // The consumer stopped early (return() on this generator): stop web-llm too.
      if (!ended && !signal?.aborted) interrupt();
    }
    return {
      finishReason: signal?.aborted ? 'aborted' : finishReason(finish),
      promptTokens: usage?.prompt_tokens ?? estimate,
      generatedTokens: usage?.completion_tokens ?? pieces,
    };
  }

  /**
   * Placeholder ids, one per estimated token (see CHARS_PER_TOKEN): only the length is meaningful,
   * which is all the engine uses (countChatTokens, to trim old turns).
   */
  encode(messages: readonly ChatMessage[]): number[] {
    return new Array<number>(estimateTokens(messages)).fill(-1);
  }

  /** Unloads the model from web-llm and frees its GPU memory. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.engine.unload().catch(() => {});
  }
}

/** Estimated tokens of `messages` once rendered by the chat template. */
function estimateTokens(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += TOKENS_PER_MESSAGE + Math.ceil(m.content.length / CHARS_PER_TOKEN);
  return n;
}

/**
 * Our sampling options as web-llm's OpenAI-style request. web-llm has no top_k or min_p in chat
 * completions, so those two are not sent; its seed must be an integer.
 */
function chatRequest(messages: readonly ChatMessage[], o: SamplingOptions): WebLlmChatRequest {
  return {
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    stream: true,
    stream_options: { include_usage: true },
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.topP !== undefined ? { top_p: o.topP } : {}),
    ...(o.maxTokens !== undefined ? { max_tokens: o.maxTokens } : {}),
    ...(o.seed !== undefined && Number.isInteger(o.seed) ? { seed: o.seed } : {}),
    ...(o.stop?.length ? { stop: [...o.stop] } : {}),
    ...(o.repetitionPenalty !== undefined ? { repetition_penalty: o.repetitionPenalty } : {}),
  };
}

/**
 * web-llm's finish_reason as ours. Its 'stop' covers both the end-of-sequence token and a stop
 * string, which it does not tell apart; the end token is by far the common case, so 'eos'.
 */
function finishReason(reason: WebLlmChunk['choices'][number]['finish_reason']): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'abort':
      return 'aborted';
    case 'tool_calls':
      return 'stop';
    default:
      return 'eos';
  }
}
