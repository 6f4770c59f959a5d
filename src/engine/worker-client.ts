/**
 * The {@link Engine} the element uses: our runtime in a module Web Worker, so the page stays
 * responsive while tokens stream. Clients that load the same model share one worker (see
 * {@link WorkerConnection}); each client holds at most one connection at a time.
 */
import { GptError } from '../errors.ts';
import { canonicalModelUrl } from '../formats/model-location.ts';
import type { ChooseNormalisation, ClassifyNormalisation, FewShotTemplate } from '../templates/schema.ts';
import type { TaskHead } from '../templates/head/head-schema.ts';
import type { TrainHeadProgress } from '../templates/head/train-head.ts';
import type { ChatMessage, Engine, EngineEvent, EngineLoadProgress, HeadTrainingOptions, LocalFilesInput, LocalLoadOptions, ModelInfo, ModelSpec, SamplingOptions, TemplateRunOptions, TemplateScores } from './engine.ts';
import { localSpec, pickedFiles } from './local-files.ts';
import { isFinal, type WorkerResponse, type WorkerStats } from './protocol.ts';
import { defaultWorkerUrl } from './worker-url.ts';
import { startModuleWorker, WorkerConnection, type RequestBody, type WorkerFactory } from './worker-connection.ts';

/** Live connections by worker URL and model: the sharing that gives one worker per model. */
const connections = new Map<string, WorkerConnection>();

/** How many engine workers this page holds (for tests and diagnostics). */
export function liveWorkerCount(): number {
  return connections.size;
}

/**
 * Debug counters of every engine worker this page holds, for leak checks: requests the page
 * still waits on (`pendingRequests`) beside what each worker holds (see {@link WorkerStats}).
 */
export async function workerStats(): Promise<(WorkerStats & { readonly url: string; readonly pendingRequests: number })[]> {
  const live = [...connections.values()].filter((c) => !c.failure);
  return Promise.all(
    live.map(async (conn) => {
      const pendingRequests = conn.pendingRequests; // before the stats request itself is pending
      const stats = await new Promise<WorkerStats>((resolve, reject) =>
        conn.request({ type: 'stats' }, (m) => (m.type === 'stats' ? resolve(m.stats) : m.type === 'error' ? reject(GptError.from(m.error)) : undefined)),
      );
      return { url: conn.url, pendingRequests, ...stats };
    }),
  );
}

/** What relative URLs resolve against: the page (the client also runs in Node tests, with none). */
function pageBase(): string | undefined {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

export interface WorkerClientOptions {
  /** URL of gpt-chat-worker.js (default: next to gpt-chat.js). */
  readonly workerUrl?: string;
  /** Starts the worker (default: a module worker, through a blob shim when cross-origin). */
  readonly startWorker?: WorkerFactory;
}

export class WorkerClient implements Engine {
  #connection?: { key: string; conn: WorkerConnection };
  readonly #workerUrl: string;
  readonly #start: WorkerFactory;

  constructor(options: WorkerClientOptions = {}) {
    this.#workerUrl = new URL(options.workerUrl ?? defaultWorkerUrl(), pageBase()).href;
    this.#start = options.startWorker ?? startModuleWorker;
  }

  /** Takes the shared connection for `spec`, letting go of a previous one for another model. */
  #acquire(spec: ModelSpec): WorkerConnection {
    const key = `${this.#workerUrl} ${spec.engine ?? 'auto'} ${spec.contextLength ?? ''} ${spec.quantize ?? ''} ${spec.url}`;
    if (this.#connection?.key === key && !this.#connection.conn.failure) return this.#connection.conn;
    this.#release();
    let conn = connections.get(key);
    if (!conn || conn.failure) {
      conn = new WorkerConnection(this.#workerUrl, this.#start);
      connections.set(key, conn);
    }
    conn.refs++;
    this.#connection = { key, conn };
    return conn;
  }

  #release(): void {
    const held = this.#connection;
    if (!held) return;
    this.#connection = undefined;
    if (--held.conn.refs > 0) return;
    if (connections.get(held.key) === held.conn) connections.delete(held.key);
    held.conn.terminate();
  }

  #conn(): WorkerConnection {
    if (!this.#connection) throw new GptError('bad-argument', 'No model is loaded; call load(spec) before chat().');
    return this.#connection.conn;
  }

  load(spec: ModelSpec, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    signal?.throwIfAborted();
    // The worker may be a blob: its base URL is not the page's, so send an absolute model URL.
    const absolute = { ...spec, url: canonicalModelUrl(spec.url) };
    const conn = this.#acquire(absolute);
    return this.#call(conn, { type: 'load', spec: absolute }, signal, (m) => {
      if (m.type === 'progress') onProgress?.(m.progress);
      if (m.type !== 'loaded') return undefined;
      const workerStart = conn.takeStartTime();
      return workerStart === undefined ? m.info : { ...m.info, loadTimings: { workerStart, ...m.info.loadTimings } };
    });
  }

  /** Loads a model from files on this computer (see Engine.loadFiles); the Files cross to the worker without a copy of their bytes. */
  async loadFiles(files: LocalFilesInput, options?: LocalLoadOptions, onProgress?: (p: EngineLoadProgress) => void, signal?: AbortSignal): Promise<ModelInfo> {
    return this.load(localSpec(await pickedFiles(files), options), onProgress, signal);
  }

  warm(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<number> {
    return this.#call(this.#conn(), { type: 'warm', messages }, signal, (m) => (m.type === 'warmed' ? m.tokens : undefined));
  }

  countChatTokens(messages: readonly ChatMessage[]): Promise<number> {
    return this.#call(this.#conn(), { type: 'count', messages }, undefined, (m) => (m.type === 'counted' ? m.tokens : undefined));
  }

  classify(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: TemplateRunOptions<ClassifyNormalisation> = {}, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#call(this.#conn(), { type: 'classify', template, fields, options }, signal, (m) => (m.type === 'scored' ? m.result : undefined));
  }

  choose(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: TemplateRunOptions<ChooseNormalisation> = {}, signal?: AbortSignal): Promise<TemplateScores> {
    return this.#call(this.#conn(), { type: 'choose', template, fields, options }, signal, (m) => (m.type === 'scored' ? m.result : undefined));
  }

  trainHead(template: FewShotTemplate, rows: readonly unknown[], options: HeadTrainingOptions = {}, onProgress?: (p: TrainHeadProgress) => void, signal?: AbortSignal): Promise<TaskHead> {
    return this.#call(this.#conn(), { type: 'train-head', template, rows, options }, signal, (m) => {
      if (m.type === 'head-progress') onProgress?.(m.progress);
      return m.type === 'head-trained' ? m.head : undefined;
    });
  }

  countTokens(text: string): Promise<number> {
    return this.#call(this.#conn(), { type: 'count-text', text }, undefined, (m) => (m.type === 'counted' ? m.tokens : undefined));
  }

  complete(template: FewShotTemplate, fields: Readonly<Record<string, string>>, options: SamplingOptions & { readonly k?: number }, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    return this.#stream({ type: 'complete', template, fields, options }, signal);
  }

  /** One request with one result: resolves with what `pick` returns, rejects on an error reply. */
  #call<T>(conn: WorkerConnection, body: RequestBody, signal: AbortSignal | undefined, pick: (m: WorkerResponse) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => conn.abort(id);
      const id = conn.request(body, (m) => {
        if (m.type === 'error') reject(GptError.from(m.error));
        const value = pick(m);
        if (value !== undefined) resolve(value);
        if (isFinal(m)) signal?.removeEventListener('abort', onAbort);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  chat(messages: readonly ChatMessage[], options: SamplingOptions, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    return this.#stream({ type: 'chat', messages, options }, signal);
  }

  /** A request whose replies stream as tokens and end with `done` (chat, complete). */
  async *#stream(body: Extract<RequestBody, { type: 'chat' | 'complete' }>, signal?: AbortSignal): AsyncGenerator<EngineEvent> {
    const conn = this.#conn();
    // Stopped before it began (Stop pressed while the prompt was being prepared): the worker,
    // busy until its next macrotask, would generate a while before it read an abort.
    if (signal?.aborted) {
      yield { type: 'done', finishReason: 'aborted', promptTokens: 0, generatedTokens: 0 };
      return;
    }
    // Replies arrive as messages; the generator drains them in order and sleeps when there are none.
    const queue: WorkerResponse[] = [];
    let wake: (() => void) | undefined;
    const id = conn.request(body, (m) => {
      queue.push(m);
      wake?.();
    });
    const onAbort = () => conn.abort(id);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let finished = false;
    try {
      for (;;) {
        const m = queue.shift();
        if (!m) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        if (m.type === 'token') yield m.logprob === undefined ? { type: 'token', id: m.token, text: m.text } : { type: 'token', id: m.token, text: m.text, logprob: m.logprob, ...(m.top ? { top: m.top } : {}) };
        else if (m.type === 'done') {
          finished = true;
          const { type: _t, id: _id, ...end } = m;
          yield { type: 'done', ...end };
          return;
        } else if (m.type === 'error') {
          finished = true;
          throw GptError.from(m.error);
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The consumer stopped early (break, return): stop the worker from generating for nobody.
      if (!finished) conn.forget(id);
    }
  }

  dispose(): void {
    this.#release();
  }
}
