/**
 * What the cache knows about one model folder. Two records per model URL:
 *   ['partial', url]   the download in progress: files planned and the chunks stored so far,
 *                      rewritten in the same transaction as every chunk it lists;
 *   ['manifest', url]  the complete model, written LAST, in one transaction that also deletes the
 *                      partial record, after every chunk transaction has completed. A model without
 *                      a manifest is never read as complete.
 * Chunks live at ['chunk', url, file generation, file name, index]; a new generation per downloaded
 * version of a file lets `refreshModel` fetch a changed file beside the old one and switch over by
 * writing the new manifest.
 */
import { GptError } from '../errors.ts';
import type { CacheKey, CacheStore } from './cache-store.ts';

/** One stored chunk: its byte length and the SHA-256 (hex) of its bytes. */
export interface ChunkRecord {
  readonly size: number;
  readonly sha256: string;
  /**
   * XXH64 (hex) of its bytes, what a read checks (chunk-check.ts); absent in records written
   * before it existed or where WebAssembly could not run, whose reads check the SHA-256.
   */
  readonly xxh64?: string;
}

/** One file of the model folder as stored. */
export interface CachedFile {
  readonly name: string;
  /** Bytes; null while a download whose server sent no length is in progress. */
  readonly size: number | null;
  /** Validators the server sent, to notice a remote change on `refreshModel`. */
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly contentType: string | null;
  /** Keys this file's chunks (several versions of a file can coexist during a refresh). */
  readonly generation: string;
  /** In file order; null marks a chunk not stored yet (partial records only). */
  readonly chunks: readonly (ChunkRecord | null)[];
  /** SHA-256 (hex) of the whole file once checked against an expected value, else null. */
  readonly sha256: string | null;
}

/** A model folder; `complete` is true exactly for records stored under ['manifest', url]. */
export interface ModelRecord {
  readonly version: 1;
  readonly url: string;
  readonly chunkSize: number;
  readonly files: readonly CachedFile[];
  /** Optional files the server does not have (generation_config.json ...): recorded, not errors. */
  readonly absent: readonly string[];
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly complete: boolean;
}

export const manifestKey = (url: string): CacheKey => ['manifest', url];
export const partialKey = (url: string): CacheKey => ['partial', url];
export const modelChunksPrefix = (url: string): CacheKey => ['chunk', url];
export const fileChunksPrefix = (url: string, file: CachedFile): CacheKey => ['chunk', url, file.generation, file.name];
export const chunkKey = (url: string, file: CachedFile, index: number): CacheKey => [
  'chunk', url, file.generation, file.name, index,
];

/**
 * Which chunks of `url` the store really holds (one listing of its keys): a record may list a chunk
 * the browser evicted or a user deleted by hand.
 */
export async function storedChunks(store: CacheStore, url: string): Promise<(file: CachedFile, index: number) => boolean> {
  const present = new Set((await store.keys(modelChunksPrefix(url))).map((k) => JSON.stringify(k)));
  return (file, index) => present.has(JSON.stringify(chunkKey(url, file, index)));
}

/** Bytes of a file stored so far (all of it for a complete file). */
export function storedBytes(file: CachedFile): number {
  return file.chunks.reduce((sum, c) => sum + (c?.size ?? 0), 0);
}

/** Bytes of the whole model (known sizes only). */
export function modelBytes(record: ModelRecord): number {
  return record.files.reduce((sum, f) => sum + (f.size ?? 0), 0);
}

/** The partial record a damaged manifest turns back into, with the listed chunks marked missing. */
export function reopen(record: ModelRecord, missing: ReadonlyMap<string, readonly number[]> = new Map()): ModelRecord {
  return {
    ...record,
    complete: false,
    files: record.files.map((f) => {
      const gone = missing.get(f.name);
      return gone ? { ...f, sha256: null, chunks: f.chunks.map((c, i) => (gone.includes(i) ? null : c)) } : f;
    }),
  };
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function fail(where: string, what: string): never {
  throw new GptError(
    'integrity',
    `Cache record ${where}: ${what}. HINT: the cache entry is damaged or was written by another version; ` +
      'delete it with deleteCachedModel(url) (or clearCache()) and load the model again.',
  );
}

/**
 * Checks a record read back from storage (which may be damaged or from another version) and
 * returns it typed. A complete record must have every chunk, sizes adding up to the file size, and
 * all chunks but the last exactly `chunkSize` long. Throws GptError 'integrity' naming the field.
 */
export function parseModelRecord(value: unknown, where: string): ModelRecord {
  if (!value || typeof value !== 'object') fail(where, 'not an object');
  const r = value as Record<string, unknown>;
  if (r.version !== 1) fail(where, `version is ${JSON.stringify(r.version)}, expected 1`);
  if (typeof r.url !== 'string' || !r.url) fail(where, 'url is missing');
  if (!Number.isInteger(r.chunkSize) || (r.chunkSize as number) <= 0) fail(where, `chunkSize ${String(r.chunkSize)} is not a positive integer`);
  if (typeof r.complete !== 'boolean') fail(where, 'complete is not a boolean');
  if (typeof r.createdAt !== 'number') fail(where, 'createdAt is not a number');
  if (!Array.isArray(r.absent) || !r.absent.every((a) => typeof a === 'string')) fail(where, 'absent is not a list of names');
  if (!Array.isArray(r.files) || r.files.length === 0) fail(where, 'files is empty');
  const chunkSize = r.chunkSize as number;
  for (const f of r.files as Record<string, unknown>[]) {
    const at = `${where} file ${JSON.stringify(f?.name)}`;
    if (!f || typeof f.name !== 'string' || !f.name) fail(where, 'a file has no name');
    if (typeof f.generation !== 'string') fail(at, 'generation is missing');
    if (f.size !== null && (!Number.isInteger(f.size) || (f.size as number) < 0)) fail(at, `size ${String(f.size)} is not a byte count`);
    if (f.sha256 !== null && !(typeof f.sha256 === 'string' && HEX64.test(f.sha256))) fail(at, 'sha256 is not 64 hex digits');
    if (!Array.isArray(f.chunks)) fail(at, 'chunks is not a list');
    const chunks = f.chunks as (ChunkRecord | null)[];
    chunks.forEach((c, i) => {
      if (c === null) {
        if (r.complete) fail(at, `chunk ${i} is missing from a complete record`);
        return;
      }
      if (!Number.isInteger(c.size) || c.size <= 0 || c.size > chunkSize) fail(at, `chunk ${i} size ${c.size} is outside 1..${chunkSize}`);
      if (typeof c.sha256 !== 'string' || !HEX64.test(c.sha256)) fail(at, `chunk ${i} sha256 is not 64 hex digits`);
      if (c.xxh64 !== undefined && !(typeof c.xxh64 === 'string' && HEX16.test(c.xxh64))) fail(at, `chunk ${i} xxh64 is not 16 hex digits`);
      if (i < chunks.length - 1 && c.size !== chunkSize) fail(at, `chunk ${i} has ${c.size} bytes, only the last may be shorter than ${chunkSize}`);
    });
    if (r.complete) {
      if (f.size === null) fail(at, 'size is unknown in a complete record');
      const sum = chunks.reduce((s, c) => s + (c?.size ?? 0), 0);
      if (sum !== f.size) fail(at, `chunks add up to ${sum} bytes, the file has ${String(f.size)}`);
    }
  }
  return value as ModelRecord;
}
