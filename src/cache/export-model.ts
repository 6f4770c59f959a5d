/**
 * A cached model back as files: each file of the manifest rebuilt from its stored chunks, every
 * chunk checked against its SHA-256 as it is read (as a load does), so what comes out is
 * byte-identical to what was stored, or an error. The chunks become the parts of a File: the
 * browser keeps large Blobs on disk, so a model is not held whole in JS memory.
 */
import { GptError } from '../errors.ts';
import { canonicalModelUrl } from '../formats/model-location.ts';
import { cachedModelFiles } from './cached-model-files.ts';
import { defaultStore, type CacheStore } from './cache-store.ts';
import { manifestKey, parseModelRecord } from './manifest.ts';

/**
 * The files of the model stored under `url` (a model URL or a `local:` id), named as in the model
 * folder (or the GGUF file's name). Throws GptError 'file-missing' when the model is not stored
 * completely, 'integrity' when a stored chunk is damaged (the cache then drops it, as on a load).
 */
export async function exportCachedModel(url: string, store: CacheStore = defaultStore()): Promise<File[]> {
  const base = canonicalModelUrl(url);
  const raw = (await store.available()) ? await store.get(manifestKey(base)) : undefined;
  if (raw === undefined) {
    throw new GptError('file-missing', `${base} is not stored completely on this device, so there is nothing to export. HINT: load it once (or let its download finish), then export it.`);
  }
  const model = cachedModelFiles(store, parseModelRecord(raw, base), true);
  const files: File[] = [];
  for (const f of model.manifest.files) {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of (await model.open(f.name)).chunks) parts.push(chunk as Uint8Array<ArrayBuffer>);
    files.push(new File(parts, f.name, { type: 'application/octet-stream' }));
  }
  await model.verified(); // every chunk passed its SHA-256 before any file is handed out
  return files;
}
