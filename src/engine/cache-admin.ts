/**
 * The cache operations the element and the demo use on the main thread: what is stored, and
 * deletion, with the model URL spelled as the cache keys it. They touch IndexedDB only, never the
 * network or the runtime, so they stay small enough for the main-thread bundle. (How big a model is
 * before downloading it is asked inside the load, after the one probe the download makes anyway.)
 */
export { clearCache, deleteCachedModel, isModelCached, listCachedModels } from '../cache/index.ts';
/** The one spelling of a model URL (absolute; a folder with a trailing slash, or one .gguf file), as the cache and the engine key it. */
export { canonicalModelUrl } from '../formats/model-location.ts';
