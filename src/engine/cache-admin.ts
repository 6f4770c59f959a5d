/**
 * The cache operations the element and the demo use on the main thread: what is stored, how big a
 * model is before downloading it, and deletion, with the model URL spelled as the cache keys it. They touch IndexedDB and HTTP HEAD only, never the
 * runtime, so they stay small enough for the main-thread bundle.
 */
export { clearCache, deleteCachedModel, isModelCached, listCachedModels } from '../cache/index.ts';
import { probeFolder } from '../cache/probe.ts';
import { modelFolderUrl } from '../formats/model-url.ts';

/** The one spelling of a model URL (absolute, trailing slash), as the cache and the engine key it. */
export { modelFolderUrl };

/**
 * The total bytes of the model folder at `url` as the server reports them (HEAD requests), or null
 * when a size is unknown. (The element does not need it: its load asks before a large download
 * after the one probe the download makes anyway.)
 */
export async function remoteModelBytes(url: string, fetchFn: typeof fetch = fetch, signal?: AbortSignal): Promise<number | null> {
  const folder = await probeFolder(modelFolderUrl(url), fetchFn, signal);
  let total = 0;
  for (const f of folder.files) {
    if (f.size === null) return null;
    total += f.size;
  }
  return total;
}
