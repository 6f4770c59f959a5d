/**
 * The cache operations the element and the demo use on the main thread: what is stored, and
 * deletion, with the model URL spelled as the cache keys it. They touch IndexedDB only, never the
 * network or the runtime, so they stay small enough for the main-thread bundle. (How big a model is
 * before downloading it is asked inside the load, after the one probe the download makes anyway.)
 */
export { clearCache, deleteCachedModel, isModelCached, listCachedModels } from '../cache/index.ts';
/** The one spelling of a model URL (absolute; a folder with a trailing slash, or one .gguf file), as the cache and the engine key it. */
export { canonicalModelUrl, LOCAL_SCHEME } from '../formats/model-location.ts';

/**
 * Asks the browser to keep this site's storage, the weight cache with it, under storage pressure
 * (`navigator.storage.persist()`). Only a page can ask: StorageManager.persist is exposed to
 * windows, not workers, so the engine worker cannot. Call it after a user action (the download
 * confirmation): browsers weigh engagement, and Firefox shows a prompt. Resolves with the answer,
 * or null where the API is missing or failed.
 */
export async function requestPersistentStorage(storage: Partial<Pick<StorageManager, 'persist' | 'persisted'>> | undefined = globalThis.navigator?.storage): Promise<boolean | null> {
  if (!storage?.persist) return null;
  try {
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return null;
  }
}

/**
 * A stored model back as Files, byte for byte (cache/export-model.ts). Loaded on first use: it
 * reads and checks stored chunks, code a page needs only when someone exports, so it stays out
 * of the main-thread bundle until then.
 */
export async function exportCachedModel(url: string): Promise<File[]> {
  return (await import('../cache/export-model.ts')).exportCachedModel(url);
}
