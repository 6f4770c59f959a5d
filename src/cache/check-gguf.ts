/**
 * A downloaded GGUF is checked before the cache calls it complete: its header (magic, version,
 * counts, every length, the tensor table: types, shapes, aligned non-overlapping offsets inside the
 * file) is read back from the stored chunks by the runtime's own reader. A malformed file is
 * dropped and never gets a manifest, so it is not served from the cache as a model.
 */
import { GptError } from '../errors.ts';
import { openGguf } from '../formats/gguf.ts';
import type { CacheStore } from './cache-store.ts';
import { chunkKey, fileChunksPrefix, partialKey, type CachedFile } from './manifest.ts';

/** Reads the GGUF header of stored file `f`; on a GptError the file's chunks and the partial record are deleted. */
export async function checkStoredGguf(store: CacheStore, base: string, f: CachedFile): Promise<void> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < f.chunks.length; i++) {
      const bytes = await store.get<Uint8Array>(chunkKey(base, f, i));
      if (!bytes) throw new GptError('integrity', `${base}: chunk ${i} is missing from the cache.`);
      yield bytes;
    }
  }
  try {
    await openGguf({ size: f.size ?? f.chunks.reduce((n, c) => n + (c?.size ?? 0), 0), chunks: chunks() }, base);
  } catch (e) {
    await store.deletePrefix(fileChunksPrefix(base, f)).catch(() => {});
    await store.write([], [partialKey(base)]).catch(() => {});
    throw e;
  }
}
