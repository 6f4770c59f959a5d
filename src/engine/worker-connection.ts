/**
 * One engine worker and the requests in flight on it. Connections are shared: every client that
 * asks for the same model (and worker URL) gets the same connection, so the page holds one worker
 * and one copy of the weights per model. The last client to let go terminates the worker.
 */
import { GptError } from '../errors.ts';
import { isFinal, type WorkerRequest, type WorkerResponse } from './protocol.ts';

/** Distributes each request without its `id`: the connection assigns ids. */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type RequestBody = DistributiveOmit<Exclude<WorkerRequest, { type: 'abort' }>, 'id'>;

/** Starts a module worker; a seam for tests (count workers, inject a failing one). */
export type WorkerFactory = (url: string) => Worker;

/**
 * Starts the worker at `url` as a module worker. A module worker must be same-origin with the page,
 * so when the script comes from another origin (a CDN) we start a same-origin blob worker whose only
 * line imports the real one: cross-origin module imports are allowed (with CORS), cross-origin
 * worker scripts are not. Pages whose Content-Security-Policy forbids blob: workers set `worker-url`
 * to a same-origin copy of gpt-chat-worker.js.
 */
export const startModuleWorker: WorkerFactory = (url) => {
  const absolute = new URL(url, document.baseURI);
  if (absolute.origin === location.origin || absolute.protocol === 'blob:' || absolute.protocol === 'data:') {
    return new Worker(absolute.href, { type: 'module', name: 'gpt-chat-engine' });
  }
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(absolute.href)};`], { type: 'text/javascript' }));
  const worker = new Worker(shim, { type: 'module', name: 'gpt-chat-engine' });
  // The worker has fetched the shim once it answers (or fails); the blob URL can go then.
  const revoke = () => URL.revokeObjectURL(shim);
  worker.addEventListener('message', revoke, { once: true });
  worker.addEventListener('error', revoke, { once: true });
  return worker;
};

export class WorkerConnection {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (message: WorkerResponse) => void>();
  #nextId = 1;
  #failure?: GptError;
  /** The worker's script ran (it said `started`): an 'error' event from now on is a crash. */
  #started = false;
  /** Clients holding this connection. */
  refs = 0;
  readonly #created = performance.now();
  /** ms from `new Worker` to `started`, until the first load takes it (ModelInfo.loadTimings.workerStart). */
  #startMs?: number;

  constructor(
    readonly url: string,
    start: WorkerFactory = startModuleWorker,
  ) {
    try {
      this.#worker = start(url);
    } catch (e) {
      throw this.#startError(e);
    }
    this.#worker.addEventListener('message', (e: MessageEvent<WorkerResponse>) => {
      if (e.data.type === 'started') {
        this.#started = true;
        this.#startMs = performance.now() - this.#created;
        return;
      }
      const handler = this.#pending.get(e.data.id);
      if (!handler) return; // a reply to a request whose caller stopped listening
      if (isFinal(e.data)) this.#pending.delete(e.data.id);
      handler(e.data);
    });
    // 'error' on the Worker itself: before `started`, the script failed to load or threw at the
    // top level; after it, an exception nobody caught (the worker's state is then unknown).
    this.#worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (this.#started) this.#crash(e.message || 'an uncaught error');
      else this.#failAll(this.#startError(e.message || 'the worker script failed to load'));
    });
    this.#worker.addEventListener('messageerror', () => this.#failAll(new GptError('internal', 'A message from the engine worker could not be decoded.')));
  }

  /** The worker crashed or could not start: every request in flight gets this error. */
  get failure(): GptError | undefined {
    return this.#failure;
  }

  #startError(e: unknown): GptError {
    const why = e instanceof Error ? e.message : String(e);
    return new GptError(
      'network',
      `The engine worker could not start from ${this.url} (${why}). HINT: check that gpt-chat-worker.js is served next to gpt-chat.js (with CORS headers when on another origin), or set the worker-url attribute to a same-origin copy of it.`,
    );
  }

  /**
   * The worker threw where nothing caught it: whatever it was doing may be half done (a model half
   * freed, a generation stopped mid-token), so it is stopped, with its memory, and every request
   * in flight fails. The client starts a fresh worker on the next load (see {@link failure}).
   */
  #crash(why: string): void {
    this.#worker.terminate();
    this.#failAll(
      new GptError(
        'worker-crashed',
        `The engine worker crashed (${why}), so this request stopped. The next message starts a new worker and loads the model again (from this device's cache): press Retry or send the message again.`,
      ),
    );
  }

  /** How long the worker took to start, once: for the load that waited for it. */
  takeStartTime(): number | undefined {
    const ms = this.#startMs;
    this.#startMs = undefined;
    return ms === undefined ? undefined : Math.round(ms * 10) / 10;
  }

  /** Requests sent and not yet answered (a debug counter for leak checks). */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  #failAll(error: GptError): void {
    this.#failure = error;
    const handlers = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [id, handler] of handlers) handler({ type: 'error', id, error: error.toJSON() });
  }

  /**
   * Sends `body` and calls `onMessage` with each reply until the final one. Returns the request id
   * (for {@link abort}).
   */
  request(body: RequestBody, onMessage: (message: WorkerResponse) => void): number {
    const id = this.#nextId++;
    if (this.#failure) {
      queueMicrotask(() => onMessage({ type: 'error', id, error: this.#failure!.toJSON() }));
      return id;
    }
    this.#pending.set(id, onMessage);
    this.#worker.postMessage({ ...body, id } as WorkerRequest);
    return id;
  }

  /** Asks the worker to abort request `id`; its final reply still arrives. */
  abort(id: number): void {
    if (this.#pending.has(id)) this.#worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
  }

  /** Stops listening to request `id` (its caller went away) and aborts it. */
  forget(id: number): void {
    this.abort(id);
    this.#pending.delete(id);
  }

  terminate(): void {
    this.#worker.terminate();
    this.#failAll(this.#failure ?? new GptError('disposed', 'The engine worker was stopped.'));
  }
}
