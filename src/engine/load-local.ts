/**
 * A load from files on this computer (ModelSpec.files). The runtime reads them through the same
 * ModelFiles seam, parsers and checks as a download, before anything is stored:
 *   1. pick the model among the files (config.json, *.safetensors ... or one .gguf);
 *   2. hash them chunk by chunk: the model's `local:` id (cache/local-import.ts);
 *   3. stored under that id already: load from the cache, as any stored model;
 *   4. else load from the files themselves, and only once the runtime accepted them store them
 *      (the chunks, checked against step 2, then the manifest), so a bad folder leaves nothing.
 * With `keep: false` steps 2 and 4's storing are skipped.
 */
import { isModelCached, openCachedModel, planLocalModel, storeLocalModel, DEFAULT_CHUNK_SIZE, type CacheStore } from '../cache/index.ts';
import { defaultStore } from '../cache/cache-store.ts';
import { GptError } from '../errors.ts';
import { localModelFiles, pickLocalModel } from '../formats/local-files.ts';
import type { ModelFiles } from '../formats/model-files.ts';
import type { EngineLoadProgress, ModelSpec } from './engine.ts';
import type { LoadedModel, LoadResult } from './load-model.ts';

/** Runs the runtime on `files` (the loader's options: backend, progress, quantize ...). */
export type RuntimeLoad = (files: ModelFiles) => Promise<LoadedModel>;

export async function loadLocalModel(
  spec: ModelSpec,
  run: RuntimeLoad,
  onProgress: (p: EngineLoadProgress) => void,
  signal: AbortSignal,
  store: CacheStore = defaultStore(),
): Promise<LoadResult> {
  const model = pickLocalModel(spec.files ?? []);
  const direct = () => run(localModelFiles(model)).catch((e: unknown) => {
    // The parsers name the file ("model.safetensors is not ..."); say which of the user's folders it is in.
    const error = GptError.from(e);
    throw error.code === 'aborted' || error.message.includes(model.name) ? error : new GptError(error.code, `In the chosen ${model.ggufFile ? 'file' : `folder ${model.name}/`}: ${error.message}`);
  });
  if (spec.keep === false) return { model: await direct(), fromCache: false };
  const reading = (p: { loaded: number; total: number; file: string }) => onProgress({ phase: 'cache', ...p });
  const plan = await planLocalModel(model, DEFAULT_CHUNK_SIZE, reading, signal);
  if (await isModelCached(plan.id, store).catch(() => false)) {
    // Chosen before: the stored copy is the same bytes (same id), read back and checked as any stored model.
    return { model: await run(await openCachedModel(plan.id, { store, signal })), fromCache: true, url: plan.id };
  }
  const loaded = await direct();
  if (!(await store.available())) {
    return { model: loaded, fromCache: false, notice: 'IndexedDB is not available here, so the model runs from the chosen files and is not stored on this device.' };
  }
  try {
    await storeLocalModel(plan, store, { onProgress: reading, signal });
  } catch (e) {
    if (signal.aborted) {
      loaded.dispose();
      throw new GptError('aborted', 'The model load was aborted.');
    }
    // The model runs; only keeping it failed (storage full ...): say so rather than fail the load.
    const why = GptError.from(e).message;
    return { model: loaded, fromCache: false, notice: `The model runs from the chosen files but could not be stored on this device: ${why}` };
  }
  return { model: loaded, fromCache: false, url: plan.id };
}
