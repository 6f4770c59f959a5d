/**
 * openCachedModel: the one call the engine makes to get a model folder. A complete cached copy is
 * served from IndexedDB without touching the network; anything else is downloaded (or resumed)
 * first, once per model however many callers ask at the same time.
 */
import { GptError } from '../errors.ts';
import type { LoadTimings } from '../formats/load-timings.ts';
import { canonicalModelUrl, isLocalModel } from '../formats/model-location.ts';
import { cachedModelFiles, type CachedModel, type ReadVerification } from './cached-model-files.ts';
import { defaultStore, fallbackMemoryStore, type CacheStore } from './cache-store.ts';
import { defaultCoordinator, uncoordinated, type DownloadCoordinator } from './cross-context.ts';
import { downloadModel, hashMismatch, storedFileSha256, type DownloadOptions } from './download-model.ts';
import { fileChunksPrefix, manifestKey, modelChunksPrefix, parseModelRecord, partialKey, reopen, storedChunks, type ModelRecord } from './manifest.ts';
import type { CacheProgress } from './progress.ts';
import type { QuotaWarning, StorageLike } from './quota.ts';
import { SingleFlight } from './single-flight.ts';

/** 16 MiB: large enough that IndexedDB per-transaction overhead vanishes, small enough for every browser. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/** Options of {@link openCachedModel}; every dependency has a default, tests pass their own. */
export interface OpenCachedModelOptions {
  /** Expected SHA-256 (hex) per file name; a mismatch is GptError 'integrity' and the file is dropped. */
  readonly sha256?: Readonly<Record<string, string>>;
  /** Download progress (not called for a model already cached). */
  readonly onProgress?: (p: CacheProgress) => void;
  /** The storage estimate says the download will not fit. */
  readonly onQuotaWarning?: (w: QuotaWarning) => void;
  /** IndexedDB is unavailable: the model runs from memory and will be downloaded again next time. */
  readonly onNotKept?: (message: string) => void;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  readonly store?: CacheStore;
  /** Bytes per stored chunk (default 16 MiB); tests use small ones. */
  readonly chunkSize?: number;
  /** Check each chunk's SHA-256 when it is read (default) or only its length. */
  readonly verify?: ReadVerification;
  /** Where the manifest read, chunk reads and hashing of a cached model's load are counted. */
  readonly timings?: LoadTimings;
  readonly storage?: StorageLike;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Extra attempts after a dropped connection or a 5xx (default 2). */
  readonly retries?: number;
  /**
   * Called once the folder is probed, with the bytes still to download (only when the server gave
   * every size), before any is downloaded; the download waits for it, and a rejection ends the
   * load. Callers joining a download already in flight share the first caller's.
   */
  readonly confirmDownload?: (bytes: number) => Promise<void>;
  /**
   * One download per model across this origin's tabs and workers (default: Web Locks and a
   * BroadcastChannel where the context has them, see cross-context.ts). Memory stores, which no
   * other context can read, never wait.
   */
  readonly coordinator?: DownloadCoordinator;
}

const flights = new WeakMap<CacheStore, SingleFlight<ModelRecord, CacheProgress>>();

/**
 * Downloads `base` into `store` (see {@link downloadModel}), once per model and store however many
 * callers ask at the same time; `refresh` is the manifest a refresh starts from and its probe.
 */
export function sharedDownload(
  store: CacheStore,
  base: string,
  options: OpenCachedModelOptions,
  chunkSize: number,
  refresh?: Pick<DownloadOptions, 'previous' | 'folder'>,
): Promise<ModelRecord> {
  let f = flights.get(store);
  if (!f) flights.set(store, (f = new SingleFlight()));
  return f.run(
    base,
    (signal, emit) =>
      downloadModel(base, {
        fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
        store,
        chunkSize,
        signal,
        onProgress: emit,
        onQuotaWarning: options.onQuotaWarning,
        confirmDownload: options.confirmDownload,
        coordinator: store.persistent ? (options.coordinator ?? defaultCoordinator()) : uncoordinated,
        sha256: options.sha256 ?? {},
        storage: options.storage ?? globalThis.navigator?.storage,
        now: options.now ?? (() => performance.now()),
        sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
        retries: options.retries ?? 2,
        ...refresh,
      }),
    options.signal,
    options.onProgress,
  );
}

/** The store to use: the given one, or memory when it cannot be opened. */
export async function usableStore(store: CacheStore, onNotKept?: (message: string) => void): Promise<CacheStore> {
  if (await store.available()) return store;
  onNotKept?.(
    'IndexedDB is not available here (a private window or blocked storage), so the model runs from memory ' +
      'and will be downloaded again on the next visit.',
  );
  return fallbackMemoryStore();
}

/** A cached model lost chunks: it is downloaded again (only what is missing) if the network allows. */
class NeedsRepair extends Error {}

/**
 * The complete manifest of `base`, checked against the chunks actually in the store and the
 * expected hashes; null when there is none or it needs a repair download (it is then turned back
 * into a partial record listing the chunks that survive).
 */
async function readyManifest(store: CacheStore, base: string, sha256: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ModelRecord | null> {
  const raw = await store.get(manifestKey(base));
  if (raw === undefined) return null;
  let manifest: ModelRecord;
  try {
    manifest = parseModelRecord(raw, base);
  } catch {
    await store.write([], [manifestKey(base), partialKey(base)]);
    await store.deletePrefix(modelChunksPrefix(base));
    return null;
  }
  // Sizes on every load: every chunk the manifest lists must be there (lengths are checked as read).
  const stored = await storedChunks(store, base);
  const missing = new Map<string, number[]>();
  for (const f of manifest.files) {
    const gone = f.chunks.flatMap((_, i) => (stored(f, i) ? [] : [i]));
    if (gone.length > 0) missing.set(f.name, gone);
  }
  if (missing.size > 0) {
    await store.write([[partialKey(base), reopen(manifest, missing)]], [manifestKey(base)]);
    const [name, gone] = [...missing][0]!;
    throw new NeedsRepair(`the cached copy of ${base} is incomplete (${name} lacks chunk ${gone.join(', ')})`);
  }
  let updated = false;
  const files = [];
  for (const f of manifest.files) {
    const expected = sha256[f.name]?.toLowerCase();
    if (!expected || f.sha256 === expected) {
      files.push(f);
      continue;
    }
    const actual = f.sha256 ?? (await storedFileSha256(store, base, f, signal));
    if (actual !== expected) {
      await store.deletePrefix(fileChunksPrefix(base, f));
      const all = new Map([[f.name, f.chunks.map((_, i) => i)]]);
      await store.write([[partialKey(base), reopen(manifest, all)]], [manifestKey(base)]);
      throw hashMismatch(base, f.name, expected, actual);
    }
    files.push({ ...f, sha256: actual });
    updated = true;
  }
  if (updated) {
    manifest = { ...manifest, files };
    await store.write([[manifestKey(base), manifest]]);
  }
  return manifest;
}

/**
 * Opens a model folder through the cache. A fully cached model is read from IndexedDB only (no
 * request at all, works offline); otherwise the folder is downloaded with progress, resuming from
 * stored chunks, and its manifest written last. The returned ModelFiles streams chunks from the
 * store as the runtime reads them.
 *
 * Throws GptError: 'network' (offline and not cached, HTTP error, HTML instead of a file), 'file-missing',
 * 'integrity' (hash or range mismatch; the bad entry is dropped), 'quota', 'aborted', 'bad-argument'.
 *
 * @param url the model folder (Hugging Face: https://huggingface.co/<org>/<model>/resolve/main/)
 */
export async function openCachedModel(url: string, options: OpenCachedModelOptions = {}): Promise<CachedModel> {
  const base = canonicalModelUrl(url);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) {
    throw new GptError('bad-argument', `chunkSize ${chunkSize} must be an integer of at least 1024 bytes (default ${DEFAULT_CHUNK_SIZE}).`);
  }
  options.signal?.throwIfAborted();
  const store = await usableStore(options.store ?? defaultStore(), options.onNotKept);
  const sha256 = options.sha256 ?? {};
  let repair: string | null = null;
  const manifestRead = performance.now();
  const ready = await readyManifest(store, base, sha256, options.signal).catch((e: unknown) => {
    if (!(e instanceof NeedsRepair)) throw e;
    repair = e.message;
    return null;
  });
  options.timings?.since('manifest', manifestRead);
  if (ready) return cachedModelFiles(store, ready, true, options.verify, options.timings);
  if (isLocalModel(base)) {
    throw new GptError(
      'file-missing',
      `${base} is not stored on this device${repair ? ` (${repair})` : ''}. It was stored from files on a computer, so it cannot be downloaded. ` +
        'HINT: choose its files again ("Use files from this computer", or loadFiles()).',
    );
  }
  let manifest: ModelRecord;
  try {
    manifest = await sharedDownload(store, base, options, chunkSize);
  } catch (e) {
    // Offline with a damaged cache: say that the cache is damaged, not just that the network is down.
    if (repair && e instanceof GptError && e.code === 'network') {
      throw new GptError('integrity', `${repair} and could not be repaired: ${e.message}`);
    }
    throw e;
  }
  return cachedModelFiles(store, manifest, false, options.verify, options.timings);
}
