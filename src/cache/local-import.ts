/**
 * Storing a model from files on this computer in the cache, under a `local:` id derived from its
 * contents (formats/model-location.ts). Two passes over the bytes: the first hashes every chunk
 * (the id is a SHA-256 over names, sizes and chunk hashes, so it is known before anything is
 * written, and the same files chosen again are recognised without storing them twice); the second,
 * after the runtime has accepted the model, writes the chunks, checking each against the first
 * pass, then the manifest last, as a download does. What is stored then loads like a downloaded
 * model: from the manifest, every chunk checked on read, no request.
 */
import { GptError } from '../errors.ts';
import type { LoadProgress } from '../formats/model-files.ts';
import type { LocalModel } from '../formats/local-files.ts';
import { localModelId } from '../formats/model-location.ts';
import type { CacheStore } from './cache-store.ts';
import { isQuotaError, newGeneration } from './download-file.ts';
import { chunkKey, manifestKey, modelChunksPrefix, parseModelRecord, partialKey, type CachedFile, type ChunkRecord, type ModelRecord } from './manifest.ts';
import { prepareStorage, quotaError, type StorageLike } from './quota.ts';
import { chunkRecord, matchesRecord } from './chunk-check.ts';
import { sha256Hex } from './sha256.ts';

/** A local model's contents chunk by chunk: what its id and its manifest are made from. */
export interface LocalModelPlan {
  /** `local:<16 hex>/<name>/` or `local:<16 hex>/<name>.gguf`. */
  readonly id: string;
  readonly model: LocalModel;
  readonly chunkSize: number;
  /** Per file, in the model's order: size and the record of every chunk. */
  readonly files: readonly { readonly name: string; readonly size: number; readonly chunks: readonly ChunkRecord[] }[];
}

/** Progress in bytes over all the model's files; `file` is the one being read. */
type OnProgress = (p: LoadProgress) => void;

/** One chunk of a Blob, read; a failure (the file moved or changed on disk) names the file. */
async function readChunk(model: LocalModel, name: string, blob: Blob, index: number, chunkSize: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.slice(index * chunkSize, Math.min(blob.size, (index + 1) * chunkSize)).arrayBuffer());
  } catch (e) {
    throw new GptError('file-missing', `Cannot read ${where(model, name)} (${e instanceof Error ? e.message : String(e)}). HINT: the file was moved or changed after it was chosen; choose it again.`);
  }
}

const where = (model: LocalModel, name: string) => (model.ggufFile ? model.name : `${model.name}/${name}`);

/**
 * The first pass: hashes every chunk of every file (crypto.subtle, ~1 GB/s where native) and
 * derives the model's `local:` id. Nothing is written.
 */
export async function planLocalModel(model: LocalModel, chunkSize: number, onProgress?: OnProgress, signal?: AbortSignal): Promise<LocalModelPlan> {
  const total = model.files.reduce((n, f) => n + f.blob.size, 0);
  let loaded = 0;
  const files = [];
  for (const f of model.files) {
    const chunks: ChunkRecord[] = [];
    for (let i = 0; i * chunkSize < f.blob.size; i++) {
      signal?.throwIfAborted();
      const bytes = await readChunk(model, f.name, f.blob, i, chunkSize);
      chunks.push(await chunkRecord(bytes));
      loaded += bytes.length;
      onProgress?.({ file: f.name, loaded, total });
    }
    files.push({ name: f.name, size: f.blob.size, chunks });
  }
  // The id binds names, sizes and contents; files sorted by name, so the order they were picked in does not matter.
  const listing = [...files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => `${f.name}\n${f.size}\n${f.chunks.map((c) => c.sha256).join(',')}\n`);
  const hash = await sha256Hex(new TextEncoder().encode(`gpt-chat local model, chunks of ${chunkSize}\n${listing.join('')}`));
  return { id: localModelId(model.name, hash.slice(0, 16), model.ggufFile !== undefined), model, chunkSize, files };
}

/**
 * The second pass: writes the planned model into `store` (chunks, each checked against the plan,
 * then the manifest, in its own transaction, last) and returns the manifest. On any failure the
 * chunks written so far are deleted: nothing of the model is left. Throws GptError 'integrity'
 * (a file changed since the first pass), 'quota', 'file-missing', 'aborted'.
 */
export async function storeLocalModel(
  plan: LocalModelPlan,
  store: CacheStore,
  { onProgress, signal, storage = globalThis.navigator?.storage }: { onProgress?: OnProgress; signal?: AbortSignal; storage?: StorageLike } = {},
): Promise<ModelRecord> {
  const { id, model, chunkSize } = plan;
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  const available = await prepareStorage(storage, total, id);
  const files: CachedFile[] = plan.files.map((f) => ({
    name: f.name, size: f.size, etag: null, lastModified: null, contentType: null, generation: newGeneration(), chunks: f.chunks, sha256: null,
  }));
  const record = { version: 1 as const, url: id, chunkSize, files, absent: [], createdAt: Date.now(), complete: false };
  let loaded = 0;
  try {
    // A partial record first: should the page close midway, the listing shows the leftovers and deleteCachedModel removes them.
    await write(store, [[partialKey(id), { ...record, files: files.map((f) => ({ ...f, chunks: f.chunks.map(() => null) })) }]]);
    for (const [k, f] of files.entries()) {
      const blob = model.files[k]!.blob;
      for (const [i, expected] of f.chunks.entries()) {
        signal?.throwIfAborted();
        const bytes = await readChunk(model, f.name, blob, i, chunkSize);
        if (!(await matchesRecord(bytes, expected!))) {
          throw new GptError('integrity', `${where(model, f.name)} changed on disk while it was being stored (chunk ${i} differs from what was read first). Nothing was kept. HINT: choose the files again once nothing writes to them.`);
        }
        await write(store, [[chunkKey(id, f, i), bytes]]);
        loaded += bytes.length;
        onProgress?.({ file: f.name, loaded, total });
      }
    }
    const manifest = parseModelRecord({ ...record, complete: true }, `${id} (new manifest)`);
    await write(store, [[manifestKey(id), manifest]], [partialKey(id)]);
    return manifest;
  } catch (e) {
    await store.write([], [manifestKey(id), partialKey(id)]).catch(() => {});
    await store.deletePrefix(modelChunksPrefix(id)).catch(() => {});
    if (e instanceof GptError && e.code === 'quota') throw quotaError(id, total, available);
    if (signal?.aborted) throw new GptError('aborted', `Storing ${model.name} on this device was aborted; nothing of it was kept.`);
    throw e;
  }
}

async function write(store: CacheStore, puts: readonly (readonly [readonly (string | number)[], unknown])[], dels?: readonly (readonly (string | number)[])[]): Promise<void> {
  try {
    await store.write(puts, dels);
  } catch (e) {
    if (isQuotaError(e)) throw new GptError('quota', 'storage quota exceeded');
    throw e;
  }
}
