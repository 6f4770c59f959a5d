/**
 * Files derived from a cached model and kept beside it: today the weights quantize on load made
 * (runtime/model/kept-weights.ts), so the next load reads a quarter of the bytes and skips
 * quantizing. One per model URL and variant (the quantize type), under
 *   ['derived', url, variant]                          the record, written last;
 *   ['derived-partial', url, variant]                  while it is being written: the chunks stored so far;
 *   ['derived-chunk', url, variant, source, index]     its chunks, with a SHA-256 and an XXH64 each (chunk-check.ts).
 *
 * `source` is the identity of the model's content: a SHA-256 over the names, sizes and chunk
 * hashes of its complete manifest, known without reading a byte of the model. A model changed
 * upstream and refreshed has another source, so its old derived file is never served (it is
 * deleted when next looked up). Deleting the model deletes its derived files (manage.ts), and a
 * derived chunk that fails its check drops the whole entry: the caller then rebuilds it. A save
 * cut short keeps the chunks it stored, listed in its progress record, and the next save of the
 * same source resumes there (see {@link DerivedFile.save}).
 */
import { GptError } from '../errors.ts';
import type { FileStream } from '../formats/model-files.ts';
import type { CacheKey, CacheStore } from './cache-store.ts';
import { manifestKey, type ChunkRecord, type ModelRecord } from './manifest.ts';
import { availableBytes, formatBytes, type StorageLike } from './quota.ts';
import { chunkRecord, matchesRecord, MISMATCH } from './chunk-check.ts';
import { readAhead } from './read-ahead.ts';
import { sha256Hex } from './sha256.ts';
import { derivedChunkKey as chunkKey, derivedChunksPrefix, derivedKey, derivedPartialKey as partialKey, saving, type DerivedRecord, type PartialDerived } from './derived-keys.ts';

export { derivedKey, derivedPartialKey, derivedModelPrefixes, derivedSaves, type DerivedRecord, type PartialDerived } from './derived-keys.ts';

/** What a derived file is made from: its size and its bytes in order, in pieces of any size. */
export interface DerivedSource {
  readonly size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/** The identity of a complete model's content (see the top of this module). */
export async function contentSource(manifest: ModelRecord): Promise<string> {
  const files = [...manifest.files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => [f.name, f.size, f.chunks.map((c) => c?.sha256)]);
  return sha256Hex(new TextEncoder().encode(JSON.stringify(files)));
}

/** One derived file of one complete cached model. */
export class DerivedFile {
  readonly #id: string;

  constructor(
    private readonly store: CacheStore,
    private readonly manifest: ModelRecord,
    /** What the file is, e.g. the quantize type 'q8_0'. */
    readonly variant: string,
    private readonly chunkSize: number,
    /** Asked how much room is left before a save (default: the browser's; tests pass their own). */
    private readonly storage: StorageLike | undefined = globalThis.navigator?.storage,
  ) {
    this.#id = `${manifest.url} ${variant}`;
  }

  /**
   * The stored file when there is one for this model's content, else null (a file of another
   * source is deleted). Its stream checks every chunk's size and hash; a failure deletes the
   * entry and throws GptError 'integrity'.
   */
  async find(): Promise<{ readonly size: number; open(signal?: AbortSignal): Promise<FileStream> } | null> {
    await saving.get(this.store)?.get(this.#id);
    const r = await this.store.get<DerivedRecord>(derivedKey(this.manifest.url, this.variant));
    if (r === undefined) return null;
    if (!isRecord(r) || r.source !== (await contentSource(this.manifest))) {
      await this.drop();
      return null;
    }
    return { size: r.size, open: async (signal) => ({ size: r.size, chunks: this.#read(r, signal) }) };
  }

  #read(r: DerivedRecord, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const chunk = async (i: number): Promise<Uint8Array> => {
      const bytes = await this.store.get<Uint8Array>(chunkKey(r, i));
      const want = r.chunks[i]!;
      const fault = !(bytes instanceof Uint8Array)
        ? 'is missing'
        : bytes.length !== want.size
          ? `has ${bytes.length} bytes, the record says ${want.size}`
          : !(await matchesRecord(bytes, want))
            ? MISMATCH
            : null;
      if (fault !== null) {
        await this.drop().catch(() => {});
        throw new GptError('integrity', `The ${r.variant} weights kept for ${r.url}: chunk ${i} ${fault}. They were dropped; the model loads from its own files and keeps them again.`);
      }
      return bytes as Uint8Array;
    };
    return readAhead(r.chunks.length, chunk, {
      check: () => {
        if (signal?.aborted) throw new GptError('aborted', `Reading the ${r.variant} weights of ${r.url} was aborted.`);
      },
    });
  }

  /**
   * Stores `file` as this model's derived file, replacing any earlier one. Resumable: each chunk
   * lands in one transaction with a progress record that lists it (['derived-partial', url,
   * variant]), and the complete record is written last, so a save cut short (the page closed, the
   * worker terminated, a write failed) is never served, and the next save of the same bytes skips
   * the chunks already stored (the SHA-256 recorded for each matches the new bytes; reads check the
   * stored bytes against it) and writes only the rest. A model deleted or
   * changed while saving takes its new derived file with it. The quota running out (or the
   * browser's estimate saying it will) drops this derived file, never anything else, and throws
   * GptError 'quota'. Resolves with the bytes this save wrote.
   */
  save(file: DerivedSource): Promise<number> {
    let pending = saving.get(this.store);
    if (!pending) saving.set(this.store, (pending = new Map()));
    const run = (pending.get(this.#id) ?? Promise.resolve()).then(() => this.#save(file));
    const settled = run.then(
      () => {},
      () => {},
    );
    pending.set(this.#id, settled);
    return run.finally(() => {
      if (pending.get(this.#id) === settled) pending.delete(this.#id);
    });
  }

  async #save(file: DerivedSource): Promise<number> {
    const { url } = this.manifest;
    const base = { url, variant: this.variant, source: await contentSource(this.manifest) };
    const partial = await this.#resume(base.source, file.size);
    const progress = (chunks: readonly ChunkRecord[]): PartialDerived => ({ version: 1, ...base, size: file.size, chunkSize: this.chunkSize, chunks });
    const stored = [...partial];
    let written = 0;
    let index = 0;
    const put = async (bytes: Uint8Array) => {
      const chunk = await chunkRecord(bytes);
      const had = stored[index];
      const same = had?.size === chunk.size && had.sha256 === chunk.sha256;
      stored[index] = chunk; // a chunk kept by an earlier version gets its XXH64 recorded too
      if (!same) {
        await this.#write([[chunkKey(base, index), bytes], [partialKey(url, this.variant), progress([...stored])]]);
        written += bytes.length;
      }
      index++;
    };
    try {
      const free = await availableBytes(this.storage);
      const left = file.size - partial.reduce((n, c) => n + c.size, 0);
      if (free !== null && left > free) throw this.#quota(left, free);
      let buf = new Uint8Array(this.chunkSize);
      let fill = 0;
      for await (let piece of file.chunks()) {
        while (piece.length > 0) {
          const n = Math.min(piece.length, buf.length - fill);
          buf.set(piece.subarray(0, n), fill);
          fill += n;
          piece = piece.subarray(n);
          if (fill === buf.length) {
            await put(buf);
            buf = new Uint8Array(this.chunkSize);
            fill = 0;
          }
        }
      }
      if (fill > 0) await put(buf.slice(0, fill));
      const chunks = stored.slice(0, index);
      const size = chunks.reduce((n, c) => n + c.size, 0);
      if (size !== file.size) throw new GptError('internal', `A derived file of ${url} gave ${size} bytes, ${file.size} were announced.`);
      // chunks of an earlier, longer file past the end: claimed by nothing, so deleted first
      await this.store.write([], partial.slice(index).map((_, i) => chunkKey(base, index + i)));
      const record: DerivedRecord = { version: 1, ...base, size, chunks, createdAt: Date.now() };
      await this.#write([[derivedKey(url, this.variant), record]], [partialKey(url, this.variant)]);
      // the model deleted or refreshed meanwhile: its derived file goes with it
      const now = await this.store.get<ModelRecord>(manifestKey(url));
      if (now === undefined || (await contentSource(now)) !== base.source) await this.drop();
      return written;
    } catch (e) {
      // Out of room: what this file holds is freed. Anything else (a failed write, a source that
      // failed): the chunks stored stay listed in the progress record, and the next save resumes.
      if (e instanceof GptError && e.code === 'quota') await this.drop().catch(() => {});
      throw e;
    }
  }

  /**
   * The chunks a save of `size` bytes from `source` can keep: those of the progress record when it
   * is of the same source, size and chunk size. Anything else of this variant (a complete file of
   * another source, another source's chunks, a record that does not parse) is dropped first.
   */
  async #resume(source: string, size: number): Promise<readonly ChunkRecord[]> {
    const p = await this.store.get<PartialDerived>(partialKey(this.manifest.url, this.variant));
    if (!isPartial(p) || p.source !== source || p.size !== size || p.chunkSize !== this.chunkSize) {
      await this.drop();
      return [];
    }
    const others = (await this.store.keys(derivedChunksPrefix(this.manifest.url, this.variant))).filter((k) => k[3] !== source);
    await this.store.write([], [derivedKey(this.manifest.url, this.variant), ...others]);
    return p.chunks;
  }

  async #write(puts: readonly (readonly [CacheKey, unknown])[], dels: readonly CacheKey[] = []): Promise<void> {
    try {
      await this.store.write(puts, dels);
    } catch (e) {
      if ((e as { name?: unknown } | null)?.name === 'QuotaExceededError') throw this.#quota(null, null); // as download-file.ts's isQuotaError
      throw e;
    }
  }

  #quota(needed: number | null, free: number | null): GptError {
    const why = needed === null ? 'the storage quota ran out while writing them' : `they need ${formatBytes(needed)} and the browser reports ${formatBytes(free ?? 0)} free`;
    return new GptError('quota', `The ${this.variant} weights of ${this.manifest.url} were not kept: ${why}. They were dropped; the model and every other stored file are untouched, and the model loads (and quantizes) from its own files.`);
  }

  /** Deletes the derived file (record first, then its progress record and chunks). */
  async drop(): Promise<void> {
    await this.store.write([], [derivedKey(this.manifest.url, this.variant), partialKey(this.manifest.url, this.variant)]);
    await this.store.deletePrefix(derivedChunksPrefix(this.manifest.url, this.variant));
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const wellFormed = (c: ChunkRecord | undefined): c is ChunkRecord =>
  Number.isSafeInteger(c?.size) && c!.size > 0 && HEX64.test(String(c!.sha256)) && (c!.xxh64 === undefined || HEX16.test(String(c!.xxh64)));

/** A record read back from storage, checked field by field (it may be damaged or from another version). */
function isRecord(v: unknown): v is DerivedRecord {
  const r = v as Partial<DerivedRecord> | null;
  if (!r || r.version !== 1 || typeof r.source !== 'string' || !Number.isSafeInteger(r.size) || !Array.isArray(r.chunks)) return false;
  const sum = r.chunks.reduce((n, c) => n + (wellFormed(c) ? c.size : NaN), 0);
  return sum === r.size;
}

/** A progress record read back from storage: every chunk it lists well formed. */
function isPartial(v: unknown): v is PartialDerived {
  const r = v as Partial<PartialDerived> | null;
  if (!r || r.version !== 1 || typeof r.source !== 'string' || !Number.isSafeInteger(r.size) || !Number.isSafeInteger(r.chunkSize) || !Array.isArray(r.chunks)) return false;
  return r.chunks.every(wellFormed);
}
