/**
 * Managing the cache: what is stored, how big, since when; delete one model or everything; check
 * for and fetch a newer version. A remote update is never fetched behind the user's back: the
 * cached copy keeps working until `refreshModel` is called.
 */
import { cachedModelFiles, type CachedModel } from './cached-model-files.ts';
import { defaultStore, type CacheStore } from './cache-store.ts';
import { downloadModel } from './download-model.ts';
import { manifestKey, modelBytes, modelChunksPrefix, parseModelRecord, partialKey, storedBytes, chunkKey, type ModelRecord } from './manifest.ts';
import { flightsOf, normalizeModelUrl, openCachedModel, usableStore, type OpenCachedModelOptions, DEFAULT_CHUNK_SIZE } from './open-cached-model.ts';
import { probeFolder } from './probe.ts';

/** One entry of {@link listCachedModels}. */
export interface CachedModelInfo {
  readonly url: string;
  /** Bytes stored (the whole model when complete). */
  readonly bytes: number;
  /** Bytes of the whole model, as far as known. */
  readonly totalBytes: number;
  readonly files: readonly string[];
  readonly createdAt: Date;
  /** False for an interrupted download: it resumes on the next load, or can be deleted. */
  readonly complete: boolean;
}

function info(r: ModelRecord): CachedModelInfo {
  return {
    url: r.url,
    bytes: r.files.reduce((n, f) => n + storedBytes(f), 0),
    totalBytes: modelBytes(r),
    files: r.files.map((f) => f.name),
    createdAt: new Date(r.createdAt),
    complete: r.complete,
  };
}

async function records(store: CacheStore, kind: 'manifest' | 'partial'): Promise<ModelRecord[]> {
  const out: ModelRecord[] = [];
  for (const raw of await store.values([kind])) {
    try {
      out.push(parseModelRecord(raw, `(${kind})`));
    } catch {
      // A damaged record is listed by nothing; the next load of its URL replaces it.
    }
  }
  return out;
}

/** Cached models, complete ones and interrupted downloads, with sizes and dates. */
export async function listCachedModels(store: CacheStore = defaultStore()): Promise<CachedModelInfo[]> {
  if (!(await store.available())) return [];
  return [...(await records(store, 'manifest')), ...(await records(store, 'partial'))].map(info);
}

/** Deletes a model (complete or partial) and all its chunks. Other models are untouched. */
export async function deleteCachedModel(url: string, store: CacheStore = defaultStore()): Promise<void> {
  const base = normalizeModelUrl(url);
  if (!(await store.available())) return;
  // Manifest first: if the page dies midway, the leftovers are chunks nothing claims as complete.
  await store.write([], [manifestKey(base), partialKey(base)]);
  await store.deletePrefix(modelChunksPrefix(base));
}

/** Deletes every cached model. */
export async function clearCache(store: CacheStore = defaultStore()): Promise<void> {
  if (!(await store.available())) return;
  // Manifests first, so that a page closed midway leaves no manifest whose chunks are gone.
  await store.deletePrefix(['manifest']);
  await store.deletePrefix([]);
}

/** True when the model is completely cached: a valid manifest and every chunk it lists. */
export async function isModelCached(url: string, store: CacheStore = defaultStore()): Promise<boolean> {
  const base = normalizeModelUrl(url);
  if (!(await store.available())) return false;
  let manifest: ModelRecord;
  try {
    const raw = await store.get(manifestKey(base));
    if (raw === undefined) return false;
    manifest = parseModelRecord(raw, base);
  } catch {
    return false;
  }
  const present = new Set((await store.keys(modelChunksPrefix(base))).map((k) => JSON.stringify(k)));
  return manifest.files.every((f) => f.chunks.every((_, i) => present.has(JSON.stringify(chunkKey(base, f, i)))));
}

/**
 * Files of the cached model that changed on the server (other ETag, Last-Modified or size), or
 * that the server no longer has / newly has. Asks the network (HEAD requests); downloads nothing.
 */
export async function checkModelUpdate(
  url: string,
  { fetch: fetchFn = globalThis.fetch.bind(globalThis), store = defaultStore(), signal }: Pick<OpenCachedModelOptions, 'fetch' | 'store' | 'signal'> = {},
): Promise<string[]> {
  const base = normalizeModelUrl(url);
  const raw = await store.get(manifestKey(base));
  if (raw === undefined) return [];
  const manifest = parseModelRecord(raw, base);
  const remote = await probeFolder(base, fetchFn, signal);
  const changed = remote.files
    .filter((r) => {
      const f = manifest.files.find((m) => m.name === r.name);
      return !f || f.size !== r.size || f.etag !== r.etag || f.lastModified !== r.lastModified;
    })
    .map((r) => r.name);
  const gone = manifest.files.filter((f) => !remote.files.some((r) => r.name === f.name)).map((f) => f.name);
  return [...changed, ...gone];
}

/**
 * Downloads what changed on the server since the model was cached (only the changed files) and
 * switches to the new version when it is complete; until then, and if the refresh fails, the cached
 * copy stays usable. Not cached yet: a plain download. Returns the names of the changed files and
 * the model as it is now.
 */
export async function refreshModel(url: string, options: OpenCachedModelOptions = {}): Promise<{ changed: string[]; model: CachedModel }> {
  const base = normalizeModelUrl(url);
  const store = await usableStore(options.store ?? defaultStore(), options.onNotKept);
  const raw = await store.get(manifestKey(base));
  if (raw === undefined) return { changed: [], model: await openCachedModel(url, { ...options, store }) };
  const previous = parseModelRecord(raw, base);
  const changed = await checkModelUpdate(base, { ...options, store });
  if (changed.length === 0) return { changed, model: cachedModelFiles(store, previous, options.verify) };
  const manifest = await flightsOf(store).run(
    base,
    (signal, emit) =>
      downloadModel(base, {
        fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
        store,
        chunkSize: options.chunkSize ?? previous.chunkSize ?? DEFAULT_CHUNK_SIZE,
        signal,
        onProgress: emit,
        onQuotaWarning: options.onQuotaWarning,
        sha256: options.sha256 ?? {},
        storage: options.storage ?? globalThis.navigator?.storage,
        now: options.now ?? (() => performance.now()),
        sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
        retries: options.retries ?? 2,
        previous,
      }),
    options.signal,
    options.onProgress,
  );
  return { changed, model: cachedModelFiles(store, manifest, options.verify) };
}
