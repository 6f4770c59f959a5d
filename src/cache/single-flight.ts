/**
 * One download per model at a time, shared by every caller (two <gpt-chat> elements on one page).
 * Each caller gets the progress reports and may abort on its own; the shared work is aborted only
 * when every caller has left.
 */
import { GptError } from '../errors.ts';

interface Flight<T, P> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  readonly listeners: Set<(p: P) => void>;
  waiters: number;
}

/** Runs `start` once per key while it is in flight; later callers join it. */
export class SingleFlight<T, P> {
  private readonly flights = new Map<string, Flight<T, P>>();

  /** Aborts `key`'s work for every caller; a later `run` of `key` starts afresh. */
  abort(key: string): void {
    const flight = this.flights.get(key);
    this.flights.delete(key);
    flight?.controller.abort();
  }

  run(
    key: string,
    start: (signal: AbortSignal, emit: (p: P) => void) => Promise<T>,
    signal?: AbortSignal,
    listener?: (p: P) => void,
  ): Promise<T> {
    signal?.throwIfAborted();
    let flight = this.flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const listeners = new Set<(p: P) => void>();
      const emit = (p: P) => {
        for (const l of listeners) {
          try {
            l(p);
          } catch {
            // One caller's failing callback must not break the download for the others.
          }
        }
      };
      const promise = start(controller.signal, emit).finally(() => {
        if (this.flights.get(key) === started) this.flights.delete(key);
      });
      promise.catch(() => {}); // every caller awaits its own race below
      const started: Flight<T, P> = { promise, controller, listeners, waiters: 0 };
      this.flights.set(key, (flight = started));
    }
    const f = flight;
    f.waiters += 1;
    if (listener) f.listeners.add(listener);
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        f.waiters -= 1;
        if (listener) f.listeners.delete(listener);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (left) return;
        leave();
        if (f.waiters === 0) f.controller.abort(signal!.reason);
        reject(new GptError('aborted', `Loading ${key} was aborted.`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (v) => { leave(); resolve(v); },
        (e) => { leave(); reject(e); },
      );
    });
  }
}
