/**
 * The IndexedDB weight cache: download a model folder once (with progress, resumable, checked),
 * then load it offline. The runtime reads it through {@link ModelFiles}.
 */
export { openCachedModel, DEFAULT_CHUNK_SIZE, type OpenCachedModelOptions } from './open-cached-model.ts';
export type { CachedModel, ReadVerification } from './cached-model-files.ts';
export type { DerivedFile } from './derived-file.ts';
export { listCachedModels, deleteCachedModel, clearCache, isModelCached, checkModelUpdate, refreshModel, type CachedModelInfo, type KeptCopyInfo } from './manage.ts';
export { planLocalModel, storeLocalModel, type LocalModelPlan } from './local-import.ts';
export { exportCachedModel } from './export-model.ts';
export { defaultStore, idbStore, memoryStore, type CacheStore, type CacheKey } from './cache-store.ts';
export { probeStore, type ProbeStore } from './probe-store.ts';
export type { CacheProgress } from './progress.ts';
export type { QuotaWarning, StorageLike } from './quota.ts';
export type { ModelRecord, CachedFile, ChunkRecord } from './manifest.ts';
export type { ModelFiles, FileStream } from '../formats/model-files.ts';
