/**
 * ModelFiles served from the cache: the seam through which the runtime reads a cached model. Files
 * stream chunk by chunk from the store (three read ahead, see read-ahead.ts), each chunk checked for its
 * length and, by default, its hash.
 *
 * Why hash on every read: a chunk damaged on disk (or by hand in DevTools) must not reach the GPU
 * as garbage weights, and sizes alone do not catch flipped bytes. `verify: 'size'` turns it off.
 *
 * Which hash, and when: a chunk recorded with an XXH64 (chunk-check.ts: every chunk written since
 * it exists) is checked against it on this thread before it is handed out, in under 3 ms per
 * 16 MiB. A chunk recorded with only its SHA-256 (caches written before) is checked by
 * crypto.subtle: a file's first chunk (the headers its reader parses) and every chunk of `text`
 * before they are handed out, so a damaged header fails as damage ('integrity': repaired by
 * downloading the chunk again), not as a bad file; later chunks (the weights) are handed out as
 * soon as they are read while their hash runs on crypto.subtle's thread, and the runtime awaits
 * `verified()` before the model can run (runtime/load-model.ts), so no output ever depends on a
 * damaged chunk; `verified()` then records the XXH64s of the chunks that passed in the stored
 * manifest, so the next load checks them the fast way.
 */
import type { FileStream, ModelFiles } from '../formats/model-files.ts';
import { GptError } from '../errors.ts';
import type { LoadTimings } from '../formats/load-timings.ts';
import { ggufFileName } from '../formats/model-location.ts';
import type { CacheStore } from './cache-store.ts';
import { DerivedFile } from './derived-file.ts';
import { chunkKey, manifestKey, partialKey, reopen, type CachedFile, type ModelRecord } from './manifest.ts';
import { chunkCheck, checksAtOnce, matchesRecord, MISMATCH } from './chunk-check.ts';
import { readAhead } from './read-ahead.ts';

/** How much of each chunk is checked when it is read: its recorded hash (default), or only its length. */
export type ReadVerification = 'hash' | 'size';

/** A cached model: the files, and whether they survive a reload. */
export interface CachedModel extends ModelFiles {
  /** The manifest the files are read from. */
  readonly manifest: ModelRecord;
  /** False when IndexedDB was unavailable and the model lives only in this page's memory. */
  readonly kept: boolean;
  /** True when the complete model was already stored: nothing was asked of the network. */
  readonly fromCache: boolean;
  /** Resolves once every chunk handed out so far passed its check; rejects with 'integrity' (see ModelFiles.verified). */
  verified(): Promise<void>;
  /**
   * A file derived from this model (its weights quantized to `variant`) kept beside it, or null
   * where nothing is kept across visits (the in-memory store). See derived-file.ts.
   */
  derived(variant: string): DerivedFile | null;
}

/**
 * Turns a complete manifest into ModelFiles reading from `store`; `timings` gets the chunk reads,
 * their hashing and the time a reader waited for a chunk (see load-timings.ts).
 */
export function cachedModelFiles(store: CacheStore, manifest: ModelRecord, fromCache: boolean, verify: ReadVerification = 'hash', timings?: LoadTimings): CachedModel {
  const base = manifest.url;
  let dropped: GptError | null = null;

  const find = (name: string): CachedFile => {
    if (dropped) throw dropped;
    const f = manifest.files.find((x) => x.name === name);
    if (!f) {
      const why = manifest.absent.includes(name) ? 'the server does not have it' : 'it is not part of the cached model folder';
      throw new GptError('file-missing', `${base}${name} is not in the cache: ${why}.`);
    }
    return f;
  };

  /** Drops the manifest and the damaged chunk, keeping the rest for a repair download. */
  const drop = async (f: CachedFile, index: number, what: string): Promise<GptError> => {
    dropped = new GptError(
      'integrity',
      `${base}${f.name}: cached chunk ${index} (bytes ${index * manifest.chunkSize}-${index * manifest.chunkSize + (f.chunks[index]?.size ?? 0) - 1}) ${what}. ` +
        'The cached copy was dropped and will not be used. HINT: load the model again while online; only the damaged part is downloaded again.',
    );
    await store
      .write([[partialKey(base), reopen(manifest, new Map([[f.name, [index]]]))]], [manifestKey(base), chunkKey(base, f, index)])
      .catch(() => {});
    return dropped;
  };

  // The hashes of chunks handed out before their check ended; `verified` awaits them.
  const checks: Promise<void>[] = [];

  const check = async (f: CachedFile, index: number, bytes: Uint8Array): Promise<void> => {
    const start = performance.now();
    const matches = await matchesRecord(bytes, f.chunks[index]!);
    timings?.since('hashing', start);
    if (!matches) throw await drop(f, index, `${MISMATCH} (the stored bytes were changed)`);
  };

  /** Chunk `index` of `f`, its length checked; its hash too, or (`later`) left running in `checks`. */
  const read = async (f: CachedFile, index: number, later = false): Promise<Uint8Array> => {
    const expected = f.chunks[index]!;
    const start = performance.now();
    const bytes = await store.get<Uint8Array>(chunkKey(base, f, index));
    timings?.since('chunkReads', start);
    if (!(bytes instanceof Uint8Array)) throw await drop(f, index, 'is missing (the file is truncated)');
    if (bytes.length !== expected.size) throw await drop(f, index, `has ${bytes.length} bytes, the manifest says ${expected.size}`);
    if (verify === 'size') return bytes;
    if (await checksAtOnce(expected)) {
      await check(f, index, bytes);
      return bytes;
    }
    // SHA-256 only, a cache written before XXH64: the chunk's XXH64 is taken now, before the reader
    // may change the bytes, and recorded once the SHA-256 vouches for them (see recordLearned).
    const xxh64 = (await chunkCheck())?.(bytes);
    const checked = check(f, index, bytes).then(() => {
      if (xxh64 !== undefined) learned.set(`${f.name}\n${index}`, xxh64);
    });
    if (!later) {
      await checked;
      return bytes;
    }
    // crypto.subtle.digest copies the bytes when called, so the reader may use them at once.
    checked.catch(() => {}); // awaited by verified()
    checks.push(checked);
    return bytes;
  };

  // XXH64s of chunks the manifest records with only a SHA-256, taken as they passed it: written into
  // the stored manifest, so the next load checks those chunks by XXH64 (see chunk-check.ts).
  const learned = new Map<string, string>();
  const recordLearned = () => {
    if (learned.size === 0) return;
    const found = new Map(learned);
    learned.clear();
    const same = (m: ModelRecord) =>
      m.createdAt === manifest.createdAt &&
      JSON.stringify(m.files.map((f) => [f.name, f.generation, f.chunks.map((c) => c?.sha256)])) ===
        JSON.stringify(manifest.files.map((f) => [f.name, f.generation, f.chunks.map((c) => c?.sha256)]));
    // In one transaction with reading it back: a manifest deleted or replaced meanwhile (another
    // tab, a refresh) is left as it is, never brought back.
    const withLearned = (f: CachedFile): CachedFile => ({
      ...f,
      chunks: f.chunks.map((c, i) => {
        const xxh64 = found.get(`${f.name}\n${i}`);
        return c && c.xxh64 === undefined && xxh64 !== undefined ? { ...c, xxh64 } : c;
      }),
    });
    void store
      .update<ModelRecord>(manifestKey(base), (m) => (m && same(m) ? { ...m, files: m.files.map(withLearned) } : undefined))
      .catch(() => {}); // a faster check next time, nothing more: a failure loses nothing
  };

  /** A file's chunks, read ahead (read-ahead.ts); the first is checked before it is handed out (it holds the headers). */
  function chunks(f: CachedFile, signal?: AbortSignal, checkAll = false): AsyncGenerator<Uint8Array> {
    return readAhead(f.chunks.length, (i) => read(f, i, !checkAll && i > 0), {
      waited: (ms) => timings?.add('readWait', ms),
      check: () => {
        if (signal?.aborted) throw new GptError('aborted', `Reading ${base}${f.name} was aborted.`);
      },
    });
  }

  return {
    location: base,
    ...(ggufFileName(base) !== null && manifest.files[0] ? { ggufFile: manifest.files[0].name } : {}),
    manifest,
    kept: store.persistent,
    fromCache,
    derived: (variant) => (store.persistent ? new DerivedFile(store, manifest, variant, manifest.chunkSize) : null),
    async has(name) {
      if (dropped) throw dropped;
      return manifest.files.some((f) => f.name === name);
    },
    async verified() {
      if (dropped) throw dropped;
      await Promise.all(checks);
      recordLearned();
    },
    async text(name) {
      const f = find(name);
      const parts: Uint8Array[] = [];
      for await (const c of chunks(f, undefined, true)) parts.push(c);
      return new TextDecoder().decode(concat(parts, f.size!));
    },
    async open(name, signal): Promise<FileStream> {
      const f = find(name);
      return { size: f.size!, chunks: chunks(f, signal) };
    },
  };
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
