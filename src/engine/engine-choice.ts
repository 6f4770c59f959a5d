/**
 * Which engine an element gets: the worker client wherever module workers exist (every browser
 * with WebGPU has them), else the runtime on the page itself. The in-page engine is imported at
 * run time from the worker bundle (which exports it), so the main-thread bundle holds no runtime
 * code and has no chunks of its own: one file to host, one to budget.
 */
import type { ChatMessage, Engine, EngineEvent, EngineLoadProgress, ModelInfo, ModelSpec, SamplingOptions } from './engine.ts';
import { WorkerClient, type WorkerClientOptions } from './worker-client.ts';
import { defaultWorkerUrl } from './worker-url.ts';

export interface EngineChoice extends WorkerClientOptions {
  /** Run on the page instead of in a worker (debugging, or no module workers). */
  readonly inPage?: boolean;
}

/** A new engine client for one element. */
export function createEngine(choice: EngineChoice = {}): Engine {
  if (!choice.inPage && typeof Worker !== 'undefined') return new WorkerClient(choice);
  return new LazyInPageEngine(choice.workerUrl ?? defaultWorkerUrl());
}

/**
 * The in-page engine, fetched on first use. It has no `warm` (Engine.warm is optional): on the page
 * a prefill is main-thread work, and would make the page stutter while the visitor types.
 */
class LazyInPageEngine implements Engine {
  #engine?: Promise<Engine>;

  constructor(private readonly workerUrl: string) {}

  #get(): Promise<Engine> {
    // A URL only known at run time: bundlers leave this import alone.
    return (this.#engine ??= (import(/* @vite-ignore */ this.workerUrl) as Promise<{ InPageEngine: new () => Engine }>).then((m) => new m.InPageEngine()));
  }

  async load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    return (await this.#get()).load(spec, onProgress, signal);
  }

  async *chat(messages: readonly ChatMessage[], options: SamplingOptions, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    yield* (await this.#get()).chat(messages, options, signal);
  }

  async countChatTokens(messages: readonly ChatMessage[]): Promise<number> {
    return (await this.#get()).countChatTokens(messages);
  }

  dispose(): void {
    void this.#engine?.then((e) => e.dispose());
  }
}
