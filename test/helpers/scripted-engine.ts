// A scripted Engine for the element's browser tests (a stand-in at the engine seam: the real worker
// and models are in element-engine.browser.test.ts), and small waiting helpers.
import type { ChatMessage, Engine, EngineEvent, EngineLoadProgress, ModelInfo, ModelSpec, SamplingOptions } from '../../src/engine/engine.ts';
import { GptError } from '../../src/errors.ts';

/** Text a sighted reader sees: without the visually hidden speaker labels ("You said:"). */
export function shown(node: Element | null): string {
  if (!node) return '';
  const copy = node.cloneNode(true) as Element;
  copy.querySelectorAll('.visually-hidden').forEach((h) => h.remove());
  return copy.textContent ?? '';
}

/** An engine that streams `reply` in small pieces, one every `delayMs`. */
export class ScriptedEngine implements Engine {
  replies: string[] = ['Hello **there**, friend.'];
  delayMs = 5;
  contextLength = 2048;
  loads = 0;
  requests: { messages: readonly ChatMessage[]; options: SamplingOptions }[] = [];
  failLoad: GptError | undefined;
  /** Thrown by the next chat after its first token (a GPU lost mid-reply), then cleared. */
  failChat: GptError | undefined;
  notice: string | undefined;
  disposed = false;

  specs: ModelSpec[] = [];
  /** Bytes the model's download takes (the size question is asked above `spec.confirmAbove`). */
  bytes = 1000;
  /** How long a load waits at half way (a slow download to cancel); it honours its AbortSignal. */
  loadDelayMs = 5;
  /** Signals of the loads, to see that a cancel reached the engine. */
  loadSignals: AbortSignal[] = [];
  /** A load waiting for the go-ahead: it settles with the load that gives it, as InPageEngine's do. */
  #waiting: ((load: Promise<ModelInfo>) => void) | undefined;

  load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    if (spec.confirmAbove !== undefined && this.bytes > spec.confirmAbove) {
      onProgress?.({ phase: 'confirm', loaded: 0, total: this.bytes });
      return new Promise((resolve, reject) => (this.#waiting = (load) => load.then(resolve, reject)));
    }
    const load = this.#load(spec, onProgress, signal);
    this.#waiting?.(load);
    this.#waiting = undefined;
    return load;
  }

  async #load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    this.loads++;
    this.specs.push(spec);
    if (signal) this.loadSignals.push(signal);
    onProgress?.({ phase: 'download', loaded: 500, total: 1000 });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, this.loadDelayMs);
      signal?.addEventListener('abort', () => (clearTimeout(t), reject(new GptError('aborted', 'The model load was aborted.'))), { once: true });
    });
    if (this.failLoad) throw this.failLoad;
    onProgress?.({ phase: 'download', loaded: 1000, total: 1000 });
    return { url: spec.url, modelType: 'scripted', backend: 'cpu', contextLength: this.contextLength, fromCache: false, ...(this.notice ? { notice: this.notice } : {}) };
  }

  async *chat(messages: readonly ChatMessage[], options: SamplingOptions, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    this.requests.push({ messages, options });
    const reply = this.replies[Math.min(this.requests.length - 1, this.replies.length - 1)]!;
    let n = 0;
    // Pieces of 3 characters: tags and link syntax get split across "tokens" on purpose.
    for (let i = 0; i < reply.length; i += 3) {
      await sleep(this.delayMs);
      if (signal?.aborted) {
        yield { type: 'done', finishReason: 'aborted', promptTokens: 1, generatedTokens: n };
        return;
      }
      n++;
      yield { type: 'token', id: n, text: reply.slice(i, i + 3) };
      if (this.failChat) {
        const e = this.failChat;
        this.failChat = undefined;
        throw e;
      }
    }
    yield { type: 'done', finishReason: 'eos', promptTokens: 1, generatedTokens: n };
  }

  /** About one token per 4 characters plus 4 per message, like a real chat template. */
  async countChatTokens(messages: readonly ChatMessage[]): Promise<number> {
    return messages.reduce((n, m) => n + 4 + Math.ceil(m.content.length / 4), 0);
  }

  dispose(): void {
    this.disposed = true;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = performance.now();
  while (!ok()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

