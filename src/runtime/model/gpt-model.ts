import type { Backend, Weight } from '../backend.ts';
import { DTYPE_BYTES } from '../dtype.ts';
import { isQuantDType, quantRowBytes } from '../quant/quant-dtype.ts';
import { GptError } from '../../errors.ts';
import { noTokenPossible, type Sampler } from '../sampler.ts';
import type { ModelConfig } from './config.ts';
import { contextLengthFor } from './config-limits.ts';
import { forward } from './forward.ts';
import { createRunState, forwardRows, type RunState } from './run-state.ts';
import type { ModelWeights } from './weights.ts';

/** Log-probabilities of a continuation, natural log. */
export interface ContinuationScore {
  /** Sum of the per-token log-probabilities. */
  readonly total: number;
  /** log p(token_i | prefix, token_0 .. token_{i-1}) for each continuation token. */
  readonly perToken: Float64Array;
}

export interface GptModelOptions {
  /** Context window S in tokens (default: min(maxPositions, 2048)). The KV cache is sized by it. */
  readonly contextLength?: number;
  /** Tokens per forward call during prefill (default 64): the size of the scratch activations. */
  readonly prefillChunk?: number;
}

/**
 * A loaded model at the token level: the KV cache holds `position` tokens; prefill and decode
 * append to it, rewind truncates it. Calls are serialised (one forward pass at a time).
 *
 * Context overflow policy: a call that would take the cache past `contextLength` throws
 * GptError('context-overflow') before running anything; callers drop turns or rewind.
 */
export class GptModel {
  readonly contextLength: number;
  private readonly s: RunState;
  private readonly idsScratch: Int32Array; // (Tmax) token ids of one forward call
  private readonly cached: Int32Array; // (S) the tokens whose keys and values are in the cache
  private readonly lastLogits: Float32Array; // (V) logits after the last token of the cache
  private readonly logitRows: Float32Array; // (Tmax, V) readback of every row, for scoring
  private pos = 0;
  private hasLogits = false;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    readonly config: ModelConfig,
    /** The backend running the forward pass (for its kind and memory figures). */
    readonly backend: Backend,
    private readonly weights: ModelWeights,
    options: GptModelOptions = {},
  ) {
    const S = contextLengthFor(config, options.contextLength);
    const Tmax = forwardRows(S, options.prefillChunk);
    this.contextLength = S;
    this.s = createRunState(backend, config, Tmax, S);
    this.idsScratch = new Int32Array(Tmax);
    this.cached = new Int32Array(S);
    this.lastLogits = new Float32Array(config.V);
    this.logitRows = new Float32Array(Tmax * config.V);
  }

  /** Which backend runs the forward pass. */
  get backendKind(): 'cpu' | 'webgpu' {
    return this.backend.kind;
  }

  /**
   * Bytes of weights one decode step reads: every matrix of every layer and the output head, as
   * stored (16-bit checkpoints stay 16-bit); the one embedding row and the norms aside. Divided
   * into a step's time it is the memory bandwidth decoding reaches (benchmarks).
   */
  get weightBytesPerToken(): number {
    const bytes = (w: Weight) => (isQuantDType(w.dtype) ? w.rows * quantRowBytes(w.dtype, w.cols, w.name) : w.rows * w.cols * DTYPE_BYTES[w.dtype]);
    let total = bytes(this.weights.lmHead);
    for (const l of this.weights.layers) total += bytes(l.wqkv) + bytes(l.wo) + bytes(l.wUp) + bytes(l.wDown);
    return total;
  }

  /** Number of tokens in the KV cache. */
  get position(): number {
    return this.pos;
  }

  /** The tokens in the KV cache: a live view, valid until the next call that changes the cache. */
  get tokens(): Int32Array {
    return this.cached.subarray(0, this.pos);
  }

  /**
   * Appends `ids` to the cache and returns the logits (V) after the last of them. The returned
   * array is reused by the next call: copy it to keep it.
   */
  prefill(ids: ArrayLike<number>, signal?: AbortSignal): Promise<Float32Array> {
    return this.serial(() => this.append(ids, signal));
  }

  /** Appends one token and returns the logits (V) after it (reused by the next call). */
  decode(id: number): Promise<Float32Array> {
    return this.prefill([id]);
  }

  /**
   * Appends one token and returns greedy decoding's next one: the argmax of the logits after it,
   * found by the backend, so a GPU reads back 8 bytes instead of the V logits. The logits are not
   * kept: a {@link scoreContinuation} afterwards needs a prefill first.
   */
  decodeGreedy(id: number): Promise<number> {
    return this.decodeAndPick(id, async () => {
      const { index, value } = await this.backend.readArgmax(this.s.logits);
      if (!(value > -Infinity)) throw noTokenPossible('GptModel.decodeGreedy');
      return index;
    });
  }

  /**
   * Appends one token and returns the next one as `sampler` picks it (temperature, top-k, top-p,
   * min-p; `sampler.onBackend`, so no repetition penalty) with its next random number, found by
   * the backend: a GPU reads back 8 bytes instead of the V logits. The same token as
   * `sampler.sample` on the logits. The logits are not kept, as with {@link decodeGreedy}.
   */
  decodeSampled(id: number, sampler: Sampler): Promise<number> {
    return this.decodeAndPick(id, () => this.backend.readSample(this.s.logits, sampler, sampler.nextRandom()));
  }

  private decodeAndPick(id: number, pick: () => Promise<number>): Promise<number> {
    return this.serial(async () => {
      this.checkFits(1);
      this.checkIds([id]);
      const start = this.pos;
      this.hasLogits = false;
      try {
        await this.run([id], 0, 1, false);
        return await pick();
      } catch (err) {
        this.pos = start;
        throw err;
      }
    });
  }

  /**
   * Makes the cache hold exactly `ids`: keeps the longest common prefix with what is cached,
   * rewinds the rest and prefills what is new (at least the last token, so logits are fresh).
   * Returns the logits after the last token.
   */
  async sync(ids: ArrayLike<number>, signal?: AbortSignal): Promise<Float32Array> {
    this.rewind(this.cachedPrefix(ids));
    return this.prefill(Array.prototype.slice.call(ids, this.pos), signal);
  }

  /**
   * The final hidden state (C) after each of `positions` (token indices into `ids`; default the
   * last): the residual stream after the final norm, the vector the output head turns into logits,
   * and the feature a task head is trained on (GPT-1's h_l of the last token). Returns (P, C) rows
   * in the order of `positions`. Each position is synced like {@link sync}, so the common prefix
   * of consecutive calls (a shared prompt) is computed once; afterwards the cache holds
   * ids[0 .. max(positions)].
   */
  async hiddenStates(ids: ArrayLike<number>, positions: readonly number[] = [ids.length - 1], signal?: AbortSignal): Promise<Float32Array> {
    const C = this.config.C;
    for (const p of positions) {
      if (!Number.isInteger(p) || p < 0 || p >= ids.length) throw new GptError('bad-argument', `hiddenStates: position ${p} is outside the ${ids.length} tokens (0 .. ${ids.length - 1}).`);
    }
    const out = new Float32Array(positions.length * C); // (P, C)
    const order = positions.map((_, i) => i).sort((a, b) => positions[a] - positions[b]);
    for (const i of order) {
      const prefix = Array.prototype.slice.call(ids, 0, positions[i] + 1) as number[];
      // rewind and run in one turn of the queue, so no other call changes the cache in between
      await this.serial(() => {
        this.rewind(this.cachedPrefix(prefix));
        return this.append(prefix.slice(this.pos), signal, out.subarray(i * C, (i + 1) * C));
      });
    }
    return out;
  }

  /**
   * log p(continuation | cached tokens): teacher-forces the continuation on top of the cache,
   * then rewinds, so the prefix's keys and values are reused for any number of continuations.
   * The cache must hold at least one token (the prefix).
   */
  scoreContinuation(continuation: ArrayLike<number>, signal?: AbortSignal): Promise<ContinuationScore> {
    return this.serial(async () => {
      if (!this.hasLogits || this.pos === 0) {
        throw new GptError('bad-argument', 'scoreContinuation needs a prefix in the cache: call prefill(prefixIds) first.');
      }
      const n = continuation.length;
      if (n === 0) return { total: 0, perToken: new Float64Array(0) };
      this.checkFits(n - 1);
      this.checkIds(continuation);
      const V = this.config.V;
      const start = this.pos;
      const perToken = new Float64Array(n);
      perToken[0] = logSoftmaxAt(this.lastLogits, 0, V, continuation[0]);
      try {
        // logits after continuation[i] score continuation[i + 1]
        for (let i = 0; i < n - 1; i += this.s.Tmax) {
          signal?.throwIfAborted();
          const T = Math.min(this.s.Tmax, n - 1 - i);
          await this.run(continuation, i, T, true);
          await this.backend.read(this.s.logits, T, this.logitRows);
          for (let t = 0; t < T; t++) perToken[i + t + 1] = logSoftmaxAt(this.logitRows, t * V, V, continuation[i + t + 1]);
        }
      } finally {
        this.pos = start; // rewind: the prefix's logits in lastLogits are untouched
      }
      let total = 0;
      for (let i = 0; i < n; i++) total += perToken[i];
      return { total, perToken };
    });
  }

  /**
   * Truncates the cache to its first `length` tokens. Cheap: later tokens are overwritten.
   * The logits of the new last token are not known until the next prefill.
   */
  rewind(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.pos) {
      throw new GptError('bad-argument', `rewind(${length}): the cache holds ${this.pos} tokens; pass 0 .. ${this.pos}.`);
    }
    if (length !== this.pos) this.hasLogits = false;
    this.pos = length;
  }

  /**
   * Readies the backend for the first token, at load time behind the progress bar: every kernel
   * the forward pass uses is compiled (on WebGPU all pipelines at once, in parallel), then one
   * decode step is run and dropped, so the first real one finds its bind groups, buffers and
   * optimised WebAssembly code (V8 tiers a kernel up once it is hot) in place. The cache is
   * left empty. `onProgress` counts the pipelines.
   */
  prepare(onProgress?: (done: number, total: number) => void): Promise<void> {
    return this.serial(async () => {
      const { Tmax } = this.s;
      const ids = this.idsScratch.fill(0);
      // every kind of forward call: a prefill chunk, a decode step early and late in the context
      // (long ones split attention across workgroups), logits of every row (scoring)
      const plan = () => {
        forward(this.backend, this.config, this.weights, this.s, ids, Tmax, 0, false);
        forward(this.backend, this.config, this.weights, this.s, ids, 1, 0, false);
        forward(this.backend, this.config, this.weights, this.s, ids, 1, this.contextLength - 1, false);
        forward(this.backend, this.config, this.weights, this.s, ids, Tmax, 0, true);
      };
      await this.backend.prepare(plan, onProgress);
      forward(this.backend, this.config, this.weights, this.s, ids, 1, 0, false);
      await this.backend.read(this.s.logits, 1, this.lastLogits);
      this.pos = 0;
      this.hasLogits = false;
    });
  }

  /** Frees the backend's buffers. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.destroy();
  }

  /**
   * Runs `ids` on top of the cache in chunks of Tmax; reads the logits after the last one and,
   * with `hidden`, its final hidden state (row 0 of s.xb after a last-row forward, see forward.ts).
   */
  private async append(ids: ArrayLike<number>, signal?: AbortSignal, hidden?: Float32Array): Promise<Float32Array> {
    if (ids.length === 0) throw new GptError('bad-argument', 'prefill needs at least one token id.');
    this.checkFits(ids.length);
    this.checkIds(ids);
    const start = this.pos;
    this.hasLogits = false;
    try {
      for (let i = 0; i < ids.length; i += this.s.Tmax) {
        signal?.throwIfAborted();
        const T = Math.min(this.s.Tmax, ids.length - i);
        await this.run(ids, i, T, false);
        // only the last chunk's logits matter; earlier chunks just fill the cache
        if (i + T < ids.length) await this.backend.flush();
        else {
          await this.backend.read(this.s.logits, 1, this.lastLogits);
          if (hidden) await this.backend.read(this.s.xb, 1, hidden);
        }
      }
    } catch (err) {
      this.pos = start; // an aborted or failed prefill leaves the cache as it was
      throw err;
    }
    this.hasLogits = true;
    return this.lastLogits;
  }

  /**
   * How many leading tokens of the cache {@link sync} keeps for `ids` (at most ids.length - 1: the
   * last is rerun for its logits); the rest of `ids` it prefills.
   */
  cachedPrefix(ids: ArrayLike<number>): number {
    let common = 0;
    const n = Math.min(ids.length, this.pos);
    while (common < n && this.cached[common] === ids[common]) common++;
    return Math.max(0, Math.min(common, ids.length - 1));
  }

  private async run(ids: ArrayLike<number>, from: number, T: number, allLogits: boolean): Promise<void> {
    for (let t = 0; t < T; t++) {
      this.idsScratch[t] = ids[from + t];
      this.cached[this.pos + t] = ids[from + t];
    }
    forward(this.backend, this.config, this.weights, this.s, this.idsScratch, T, this.pos, allLogits);
    this.pos += T;
  }

  private checkFits(n: number): void {
    if (this.pos + n > this.contextLength) {
      throw new GptError(
        'context-overflow',
        `The sequence needs ${this.pos + n} tokens but the context window holds ${this.contextLength}. ` +
          'Shorten the input, drop older turns, or load the model with a larger contextLength ' +
          `(this model allows up to ${this.config.maxPositions}).`,
      );
    }
  }

  private checkIds(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.config.V) {
        throw new GptError('bad-argument', `Token id ${id} at index ${i} is outside the vocabulary 0 .. ${this.config.V - 1}.`);
      }
    }
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    if (this.disposed) return Promise.reject(new GptError('disposed', 'This model was disposed; load it again.'));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** log softmax(logits[offset .. offset + V))[id], computed stably in float64. */
export function logSoftmaxAt(logits: Float32Array, offset: number, V: number, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[offset + i] > max) max = logits[offset + i];
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[offset + i] - max);
  return logits[offset + id] - max - Math.log(sum);
}
