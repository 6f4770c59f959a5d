/**
 * One download of a model at a time across every tab, frame and worker of this origin, which all
 * share one IndexedDB. `SingleFlight` joins callers inside one context; this joins contexts: the
 * download holds a Web Lock named after the model's canonical URL and broadcasts its progress on
 * a BroadcastChannel, and a second context waits for the lock while showing that progress. When
 * the lock comes to it, the first context either finished (its manifest is there: the waiter reads
 * the model from the cache) or went away mid-download (a closed tab releases its locks): the waiter
 * then downloads what is missing, resuming from the chunks already stored.
 *
 * Where Web Locks are missing (pages served over plain http, which are not secure contexts; very
 * old browsers) each context downloads as it did before this module: both write the same chunk
 * keys of one partial record, so the cost is bandwidth, never a broken cache. A lease record in
 * IndexedDB with a heartbeat could stand in for the lock, but only such rare pages would use it,
 * and a lease whose holder froze (a background tab) must expire by guesswork.
 */
import { GptError } from '../errors.ts';
import type { CacheProgress } from './progress.ts';

/** The right to download one model, held until `release`. */
export interface DownloadTurn {
  /** Other contexts take turns on the same store: what they wrote while this one waited must be read again. */
  readonly shared: boolean;
  /** Tells the contexts waiting for this model how far the download is. */
  announce(progress: CacheProgress): void;
  release(): void;
}

/** Hands out download turns, one context at a time per model. */
export interface DownloadCoordinator {
  /**
   * Resolves when this context may download `base`; until then, reports from the context that is
   * downloading it go to `relay`. Rejects with 'aborted' on `signal`.
   */
  turn(base: string, relay: (progress: CacheProgress) => void, signal?: AbortSignal): Promise<DownloadTurn>;
}

/** The parts of the Web Locks API used here (LockManager), so tests can hand in their own. */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

/** Lock names are per model; the prefix keeps them apart from a page's own locks. */
export const downloadLockName = (base: string): string => `gpt-chat download ${base}`;

/** The channel every context's downloads speak on: `{ url, progress }` messages. */
export const DOWNLOAD_CHANNEL = 'gpt-chat-downloads';

interface ProgressMessage {
  readonly url: string;
  readonly progress: CacheProgress;
}

/** Every context proceeds at once (no coordination): memory stores, and where Web Locks are missing. */
export const uncoordinated: DownloadCoordinator = {
  turn: async (_base, _relay, signal) => {
    signal?.throwIfAborted();
    return { shared: false, announce: () => {}, release: () => {} };
  },
};

/**
 * The coordinator over Web Locks and BroadcastChannel (both exposed to windows and workers alike).
 * Without a BroadcastChannel the lock still keeps the download single; the waiter shows no progress.
 */
export function webLocksCoordinator(locks: LockManagerLike, Channel: typeof BroadcastChannel | undefined = globalThis.BroadcastChannel): DownloadCoordinator {
  return {
    turn: (base, relay, signal) =>
      new Promise<DownloadTurn>((resolve, reject) => {
        signal?.throwIfAborted();
        const channel = Channel ? new Channel(DOWNLOAD_CHANNEL) : undefined;
        let waiting = true;
        if (channel) {
          channel.onmessage = (e: MessageEvent<ProgressMessage>) => {
            if (waiting && e.data?.url === base && e.data.progress) relay(e.data.progress);
          };
        }
        locks
          .request(downloadLockName(base), signal ? { signal } : {}, () =>
            new Promise<void>((release) => {
              waiting = false;
              resolve({
                shared: true,
                announce: (progress) => channel?.postMessage({ url: base, progress } satisfies ProgressMessage),
                release: () => {
                  channel?.close();
                  release();
                },
              });
            }),
          )
          .catch((e: unknown) => {
            channel?.close();
            reject(signal?.aborted ? new GptError('aborted', `Loading ${base} was aborted.`) : e);
          });
      }),
  };
}

/** Web Locks where this context has them (windows and workers of secure contexts), else none. */
export function defaultCoordinator(): DownloadCoordinator {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return locks ? webLocksCoordinator(locks) : uncoordinated;
}
