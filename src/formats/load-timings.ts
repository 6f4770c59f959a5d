/**
 * Where the time of a model load goes: milliseconds per phase, written by every layer a load
 * passes through (the page, the cache, the runtime) into one record that ends up in
 * `ModelInfo.loadTimings` and the `gpt-chat-ready` event. Always on: a phase costs two
 * `performance.now()` calls and an addition, and a load has a few hundred of them.
 *
 * Phases of one kind add up (every chunk read, every tensor upload). Some run at the same time as
 * others: the cache reads and hashes the next chunk while the runtime converts and uploads the
 * current one, so `chunkReads` and `hashing` may overlap `upload`; `readWait` is the part of them
 * the load actually waited for. Phases therefore do not sum to `total`.
 */

/** A load's phases; see README "Where a load's time goes". */
export type LoadPhase =
  /** Page: `new Worker` until the worker's script ran (only when the load started the worker). */
  | 'workerStart'
  /** Cache: the manifest and the list of stored chunks read from IndexedDB. */
  | 'manifest'
  /** Cache: IndexedDB reads of chunks (overlaps the runtime's work: one chunk is read ahead). */
  | 'chunkReads'
  /** Cache: SHA-256 checks of the chunks read (most run beside the runtime's work, see readWait). */
  | 'hashing'
  /**
   * Runtime: time it waited for the next chunk of a file, and after the weights for the checks of
   * the chunks handed out before their hash ended (reads and hashes not hidden behind other work).
   */
  | 'readWait'
  /** Runtime: config, GGUF header and tensor table, tokenizer, chat template. */
  | 'parse'
  /** Runtime: the backend made (a GPU device, or the WebAssembly kernels and memory). */
  | 'backend'
  /**
   * Runtime: the weights streamed into the backend, wall time. Holds `readWait` and `upload`; the
   * rest is conversion (dtype changes, quantizing, q/k row order) and the weights' fingerprint.
   */
  | 'weights'
  /** Runtime: weights allocated and copied into the backend (WebAssembly memory growth, GPU buffers and writes). */
  | 'upload'
  /** Runtime: GPU pipelines compiled and one decode step run before the first token. */
  | 'prepare'
  /** The whole load, from the request reaching the engine to the model ready. */
  | 'total';

/** The timings as plain data (crosses the worker boundary), ms per phase; absent phases did not run. */
export type LoadTimingsRecord = Partial<Readonly<Record<LoadPhase, number>>>;

/** Accumulates {@link LoadPhase} durations. */
export class LoadTimings {
  readonly #ms: Partial<Record<LoadPhase, number>> = {};

  /** Adds `ms` to `phase`. */
  add(phase: LoadPhase, ms: number): void {
    this.#ms[phase] = (this.#ms[phase] ?? 0) + ms;
  }

  /** Adds the time since `start` (a `performance.now()`) to `phase`, and returns now. */
  since(phase: LoadPhase, start: number): number {
    const now = performance.now();
    this.add(phase, now - start);
    return now;
  }

  /** Runs `fn`, adding its duration (until it settles) to `phase`. */
  async time<T>(phase: LoadPhase, fn: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.since(phase, start);
    }
  }

  /** The record, rounded to 0.1 ms. */
  toJSON(): LoadTimingsRecord {
    const out: Partial<Record<LoadPhase, number>> = {};
    for (const [k, v] of Object.entries(this.#ms)) out[k as LoadPhase] = Math.round(v * 10) / 10;
    return out;
  }
}
