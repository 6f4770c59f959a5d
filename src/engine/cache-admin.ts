/**
 * The cache operations the element and the demo use on the main thread: what is stored, how big a
 * model is before downloading it, and deletion. They touch IndexedDB and HTTP HEAD only, never the
 * runtime, so they stay small enough for the main-thread bundle.
 */
export { clearCache, deleteCachedModel, isModelCached, listCachedModels } from '../cache/index.ts';
import { probeFolder } from '../cache/probe.ts';
import { canonicalModelUrl } from '../formats/model-location.ts';

/**
 * The total bytes of the model folder at `url` as the server reports them (HEAD requests), or null
 * when a size is unknown. Used to ask before a large download.
 */
export async function remoteModelBytes(url: string, fetchFn: typeof fetch = fetch, signal?: AbortSignal): Promise<number | null> {
  const base = canonicalModelUrl(url);
  const folder = await probeFolder(base, fetchFn, signal);
  let total = 0;
  for (const f of folder.files) {
    if (f.size === null) return null;
    total += f.size;
  }
  return total;
}
