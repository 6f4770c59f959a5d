/**
 * The question "download this large model?" asked inside the load itself, after the cache has
 * probed the server once: the load waits at the gate, and a caller who accepts the size opens it.
 * One load of a model is shared by every caller (two elements, or the question and the click that
 * answers it), so the gate takes the most permissive caller's limit.
 */
import { GptError } from '../errors.ts';
import type { EngineLoadProgress } from './engine.ts';

export class DownloadGate {
  /** Bytes downloaded without asking: the largest `confirmAbove` of the callers, Infinity once one has none. */
  #limit = 0;
  /** The question waiting for an answer. */
  #asking: { readonly bytes: number; readonly open: () => void } | undefined;

  /**
   * A caller joins the load with its limit (undefined: any size, the user's go-ahead). A waiting
   * question is answered when the limit covers it, else repeated to the caller's `onProgress`.
   */
  join(confirmAbove: number | undefined, onProgress?: (p: EngineLoadProgress) => void): void {
    this.#limit = Math.max(this.#limit, confirmAbove ?? Infinity);
    const asking = this.#asking;
    if (!asking) return;
    if (asking.bytes <= this.#limit) asking.open();
    else onProgress?.(question(asking.bytes));
  }

  /**
   * Resolves when a download of `bytes` may start: at once within the limit, else after reporting
   * `{ phase: 'confirm' }` through `emit`, when a caller accepts it. Rejects with 'aborted' on `signal`.
   */
  pass(bytes: number, emit: (p: EngineLoadProgress) => void, signal: AbortSignal): Promise<void> {
    if (bytes <= this.#limit) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new GptError('aborted', 'The model load was aborted.'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#asking = {
        bytes,
        open: () => {
          this.#asking = undefined;
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      emit(question(bytes));
    });
  }
}

const question = (bytes: number): EngineLoadProgress => ({ phase: 'confirm', loaded: 0, total: bytes });
