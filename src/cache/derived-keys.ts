/**
 * Where the files derived from a cached model (derived-file.ts) are stored, and the saves of them
 * in progress: what listing and deleting models (manage.ts) needs of them, without the code that
 * writes and reads them (or the SHA-256 behind it), so the element's bundle stays small.
 */
import type { CacheKey, CacheStore } from './cache-store.ts';
import type { ChunkRecord } from './manifest.ts';

/** A derived file as stored. */
export interface DerivedRecord {
  readonly version: 1;
  readonly url: string;
  readonly variant: string;
  readonly source: string;
  readonly size: number;
  readonly chunks: readonly ChunkRecord[];
  readonly createdAt: number;
}

/** A save in progress or cut short: the chunks stored so far, in order (see {@link DerivedFile.save}). */
export interface PartialDerived {
  readonly version: 1;
  readonly url: string;
  readonly variant: string;
  readonly source: string;
  /** Bytes of the whole file. */
  readonly size: number;
  readonly chunkSize: number;
  readonly chunks: readonly ChunkRecord[];
}

export const derivedKey = (url: string, variant: string): CacheKey => ['derived', url, variant];
export const derivedPartialKey = (url: string, variant: string): CacheKey => ['derived-partial', url, variant];
export const derivedModelPrefixes = (url: string): CacheKey[] => [['derived', url], ['derived-partial', url], ['derived-chunk', url]];
/** Every chunk of one variant, of whatever source. */
export const derivedChunksPrefix = (url: string, variant: string): CacheKey => ['derived-chunk', url, variant];
export const derivedChunkKey = (r: Pick<DerivedRecord, 'url' | 'variant' | 'source'>, index: number): CacheKey => ['derived-chunk', r.url, r.variant, r.source, index];

/** Saves in progress, per store and `url variant`: a lookup or a delete waits for them. */
export const saving = new WeakMap<CacheStore, Map<string, Promise<void>>>();

/** Waits for the saves of derived files of `url` in progress (a delete must not race one). */
export async function derivedSaves(store: CacheStore, url: string): Promise<void> {
  const pending = [...(saving.get(store) ?? new Map<string, Promise<void>>())].filter(([k]) => k.startsWith(`${url} `)).map(([, p]) => p);
  await Promise.allSettled(pending);
}
