// A worker that opens a model through the weight cache (src/cache, nothing else): the downloading
// half of the engine worker, with a small chunk size so a download spans many chunks. Two of these
// in one page share IndexedDB, Web Locks and BroadcastChannel exactly as two tabs do.
import { idbStore, openCachedModel } from '../../src/cache/index.ts';
import type { CacheProgress } from '../../src/cache/index.ts';

interface Open {
  readonly url: string;
  readonly db: string;
  readonly chunkSize: number;
}

self.addEventListener('message', async (e: MessageEvent<Open>) => {
  const { url, db, chunkSize } = e.data;
  try {
    const model = await openCachedModel(url, {
      store: idbStore(db, 'files'),
      chunkSize,
      retries: 0,
      onProgress: (p: CacheProgress) => postMessage({ type: 'progress', progress: p }),
    });
    postMessage({ type: 'done', fromCache: model.fromCache });
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    postMessage({ type: 'error', code, message });
  }
});
