/**
 * Managing the cache: what is stored, how big, since when; delete one model or everything; check
 * for and fetch a newer version. A remote update is never fetched behind the user's back: the
 * cached copy keeps working until `refreshModel` is called.
 */
import { canonicalModelUrl } from '../formats/model-location.ts';
import { cachedModelFiles, type CachedModel } from './cached-model-files.ts';
import { defaultStore, type CacheStore } from './cache-store.ts';
import { derivedModelPrefixes, derivedSaves, type DerivedRecord, type PartialDerived } from './derived-keys.ts';
import { manifestKey, modelBytes, modelChunksPrefix, parseModelRecord, partialKey, storedBytes, storedChunks, type ModelRecord } from './manifest.ts';
import { openCachedModel, sharedDownload, usableStore, type OpenCachedModelOptions } from './open-cached-model.ts';
import { probeFolder, type RemoteFolder } from './probe.ts';

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
  /**
   * Copies made from the model and stored beside it: its weights as quantize on load made them
   * (src/cache/derived-file.ts), so the next load reads those. Their bytes are not in `bytes`; the
   * model's storage is `bytes` plus theirs. Deleted with the model.
   */
  readonly kept: readonly KeptCopyInfo[];
}

/** One copy of a model's weights kept beside it (see {@link CachedModelInfo.kept}). */
export interface KeptCopyInfo {
  /** What it is: the quantize type, 'q8_0' or 'q4_0'. */
  readonly variant: string;
  /** Bytes stored. */
  readonly bytes: number;
  /** False for a save cut short (the page closed): the next load with the same `quantize` finishes it. */
  readonly complete: boolean;
}

function info(r: ModelRecord, kept: readonly KeptCopyInfo[] = []): CachedModelInfo {
  return {
    url: r.url,
    bytes: r.files.reduce((n, f) => n + storedBytes(f), 0),
    totalBytes: modelBytes(r),
    files: r.files.map((f) => f.name),
    createdAt: new Date(r.createdAt),
    complete: r.complete,
    kept,
  };
}

/** The kept copies of every model, by model URL: complete records and saves cut short. */
async function keptCopies(store: CacheStore): Promise<Map<string, KeptCopyInfo[]>> {
  const out = new Map<string, KeptCopyInfo[]>();
  const add = (url: unknown, variant: unknown, chunks: unknown, complete: boolean) => {
    if (typeof url !== 'string' || typeof variant !== 'string' || !Array.isArray(chunks)) return; // damaged: the next load drops it
    const bytes = chunks.reduce((n: number, c: { size?: unknown } | null) => n + (Number.isSafeInteger(c?.size) ? (c!.size as number) : 0), 0);
    out.set(url, [...(out.get(url) ?? []), { variant, bytes, complete }]);
  };
  for (const r of await store.values<Partial<DerivedRecord> | null>(['derived'])) add(r?.url, r?.variant, r?.chunks, true);
  for (const r of await store.values<Partial<PartialDerived> | null>(['derived-partial'])) add(r?.url, r?.variant, r?.chunks, false);
  return out;
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

/** Cached models, complete ones and interrupted downloads, with sizes and dates, and the copies kept beside them. */
export async function listCachedModels(store: CacheStore = defaultStore()): Promise<CachedModelInfo[]> {
  if (!(await store.available())) return [];
  const kept = await keptCopies(store);
  // each model's kept copies on one row: the complete model's, else its partial one's (a download
  // cut short, or a damaged chunk being fetched again: the copies stay valid for the same bytes)
  const rows = [...(await records(store, 'manifest')), ...(await records(store, 'partial'))];
  return rows.map((r, i) => info(r, rows.findIndex((o) => o.url === r.url) === i ? kept.get(r.url) : []));
}

/** Deletes a model (complete or partial) and all its chunks. Other models are untouched. */
export async function deleteCachedModel(url: string, store: CacheStore = defaultStore()): Promise<void> {
  const base = canonicalModelUrl(url);
  if (!(await store.available())) return;
  // Manifest first: if the page dies midway, the leftovers are chunks nothing claims as complete.
  await store.write([], [manifestKey(base), partialKey(base)]);
  await store.deletePrefix(modelChunksPrefix(base));
  await deleteDerived(store, base);
}

/** Deletes the files derived from a model (its kept quantized weights), after any save in progress. */
async function deleteDerived(store: CacheStore, base: string): Promise<void> {
  await derivedSaves(store, base);
  for (const prefix of derivedModelPrefixes(base)) await store.deletePrefix(prefix);
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
  const base = canonicalModelUrl(url);
  if (!(await store.available())) return false;
  let manifest: ModelRecord;
  try {
    const raw = await store.get(manifestKey(base));
    if (raw === undefined) return false;
    manifest = parseModelRecord(raw, base);
  } catch {
    return false;
  }
  const stored = await storedChunks(store, base);
  return manifest.files.every((f) => f.chunks.every((_, i) => stored(f, i)));
}

/** Names of the files that differ between `manifest` and the server (size, ETag, Last-Modified, added, gone). */
function changedFiles(manifest: ModelRecord, remote: RemoteFolder): string[] {
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
 * Files of the cached model that changed on the server (other ETag, Last-Modified or size), or
 * that the server no longer has / newly has. Asks the network (HEAD requests); downloads nothing.
 */
export async function checkModelUpdate(
  url: string,
  { fetch: fetchFn = globalThis.fetch.bind(globalThis), store = defaultStore(), signal }: Pick<OpenCachedModelOptions, 'fetch' | 'store' | 'signal'> = {},
): Promise<string[]> {
  const base = canonicalModelUrl(url);
  const raw = await store.get(manifestKey(base));
  if (raw === undefined) return [];
  return changedFiles(parseModelRecord(raw, base), await probeFolder(base, fetchFn, signal));
}

/**
 * Downloads what changed on the server since the model was cached (only the changed files) and
 * switches to the new version when it is complete; until then, and if the refresh fails, the cached
 * copy stays usable. Not cached yet: a plain download. Returns the names of the changed files and
 * the model as it is now.
 */
export async function refreshModel(url: string, options: OpenCachedModelOptions = {}): Promise<{ changed: string[]; model: CachedModel }> {
  const base = canonicalModelUrl(url);
  const store = await usableStore(options.store ?? defaultStore(), options.onNotKept);
  const raw = await store.get(manifestKey(base));
  if (raw === undefined) return { changed: [], model: await openCachedModel(url, { ...options, store }) };
  const previous = parseModelRecord(raw, base);
  // One probe: it tells what changed and is the file list the download works from.
  const folder = await probeFolder(base, options.fetch ?? globalThis.fetch.bind(globalThis), options.signal);
  const changed = changedFiles(previous, folder);
  if (changed.length === 0) return { changed, model: cachedModelFiles(store, previous, true, options.verify) };
  const manifest = await sharedDownload(store, base, options, options.chunkSize ?? previous.chunkSize, { previous, folder });
  await deleteDerived(store, base); // made from the old version: never served (derived-file.ts), so freed now
  return { changed, model: cachedModelFiles(store, manifest, false, options.verify) };
}
