/**
 * How the engine turns a {@link ModelSpec} into a running model: through the IndexedDB cache
 * (download once, then read from this device) into our runtime. The only file of src/engine that
 * knows the cache's and the runtime's APIs; the in-page engine receives it as a parameter so tests
 * can hand it a fake model.
 */
import type { TokenConfidenceFields } from './engine.ts';
import { deleteCachedModel, openCachedModel, probeStore, type CacheStore } from '../cache/index.ts';
import { compileSimdKernels, loadLanguageModel, type KeptWeightsFile, type LoadOptions } from '../runtime/index.ts';
import { GptError } from '../errors.ts';
import type { ScoringModel } from '../templates/score.ts';
import type { FeatureModel } from '../templates/head/features.ts';
import type { ModelFiles } from '../formats/model-files.ts';
import { LoadTimings, type LoadTimingsRecord } from '../formats/load-timings.ts';
import { loadLocalModel } from './load-local.ts';
import { refuseWhatNoGpuRuns, type GpuPrecheckDeps } from './gpu-precheck.ts';
import { webLlmBundleUrl } from './webllm-url.ts';
import type { ChatMessage, EngineLoadProgress, GenerationEnd, ModelSpec, SamplingOptions } from './engine.ts';

/** What the engine needs of a loaded model (the runtime's LanguageModel has this shape). */
export interface LoadedModel {
  readonly backendKind: 'webgpu' | 'cpu' | 'webllm';
  readonly contextLength: number;
  readonly config: { readonly modelType: string; readonly C?: number };
  /** Set when WebGPU was asked for but missing and the CPU was used. */
  readonly notice?: string;
  /** Why this backend runs (see ModelInfo.backendReason); absent: it was asked for. */
  readonly backendReason?: string;
  generate(
    messages: readonly ChatMessage[],
    options: SamplingOptions & { readonly signal?: AbortSignal },
  ): AsyncGenerator<TokenConfidenceFields & { readonly id: number; readonly text: string }, GenerationEnd>;
  encode(messages: readonly ChatMessage[]): number[];
  /** Prefills the known start of the next prompt (the runtime's LanguageModel.warm); web-llm has none. */
  warm?(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<number>;
  /**
   * Token-level access for few-shot templates. The runtime's LanguageModel has both, and its
   * `generate` also takes a raw prompt string; models without them (test fakes) cannot run templates.
   */
  readonly tokenizer?: ScoringModel['tokenizer'];
  readonly model?: ScoringModel['model'];
  /** Task heads (src/templates/head): the runtime's LanguageModel has these; web-llm does not. */
  hiddenStates?: FeatureModel['hiddenStates'];
  readonly weightsHash?: string;
  readonly location?: string;
  /** KV cache fill and backend bytes (the runtime's LanguageModel has it), for leak checks. */
  stats?(): { readonly kvPosition: number; readonly backendBytes: number };
  dispose(): void;
}

/** How a load went: the model, and whether every byte came from this device's cache. */
export interface LoadResult {
  readonly model: LoadedModel;
  readonly fromCache: boolean;
  /** True when the weights were read as quantized on an earlier visit (the spec's `quantize`), not quantized again. */
  readonly quantizedFromCache?: boolean;
  /** What the cache has to say (storage not kept, quota), shown after the model's own notice. */
  readonly notice?: string;
  /** The model's lasting name when it is not the spec's URL: the `local:` id of files from this computer. */
  readonly url?: string;
  /** Where the load's time went, by phase (see formats/load-timings.ts). */
  readonly timings?: LoadTimingsRecord;
}

/**
 * Loads `spec`, reporting progress. `confirmDownload`, when given, is awaited with the bytes a
 * download still needs once they are known, before any is fetched (a large model asks first).
 */
export type ModelLoader = (
  spec: ModelSpec,
  onProgress: (p: EngineLoadProgress) => void,
  signal: AbortSignal,
  confirmDownload?: (bytes: number) => Promise<void>,
) => Promise<LoadResult>;

/** What the web-llm bundle (dist/gpt-chat-webllm.js, from src/webllm/load.ts) exports. */
export interface WebLlmEngineModule {
  /** web-llm keeps its own cache and downloads, so it is never asked to confirm a size. */
  loadWebLlmModel(spec: ModelSpec, onProgress: (p: EngineLoadProgress) => void, signal: AbortSignal): Promise<LoadResult>;
}

/**
 * The web-llm engine, imported by URL at run time: a URL only known at run time is left alone by
 * bundlers, so web-llm stays out of the worker bundle (which inlines every dynamic import).
 */
const importWebLlmBundle = (): Promise<WebLlmEngineModule> => import(/* @vite-ignore */ webLlmBundleUrl());

/** What the real loader reads through; every field has a default, tests pass their own. */
export interface LoaderDeps {
  /** The cache's store (default: IndexedDB, or memory where it cannot be opened). */
  readonly store?: CacheStore;
  readonly fetch?: typeof fetch;
  /** Imports the web-llm bundle (default: by URL, beside the worker bundle). */
  readonly importWebLlm?: () => Promise<WebLlmEngineModule>;
  /**
   * TEST SEAM: the GPU adapter's binding limits, checked against the model before a download
   * (gpu-precheck.ts). Default: `navigator.gpu`'s adapter; Node tests, which have none, pass their own.
   */
  readonly gpuLimits?: GpuPrecheckDeps['gpuLimits'];
}

/**
 * The real loader: the cache (src/cache) feeding the runtime (src/runtime), or for
 * `engine: 'webllm'` the web-llm engine, fetched only then. One cache lookup and at most one probe
 * of the server per load: `openCachedModel` reads the manifest once, says whether it served the
 * model from the cache, and asks `confirmDownload` between its probe and the download.
 */
export function modelLoader({ store, fetch, importWebLlm = importWebLlmBundle, gpuLimits }: LoaderDeps = {}): ModelLoader {
  return async (spec, onProgress, signal, confirmDownload) => {
    if (spec.engine === 'webllm') {
      let bundle: WebLlmEngineModule;
      try {
        bundle = await importWebLlm();
      } catch (e) {
        throw new GptError('network', `Could not load the web-llm engine (gpt-chat-webllm.js, expected beside gpt-chat-worker.js): ${e instanceof Error ? e.message : String(e)}. Serve it from the same folder, or use engine="auto".`);
      }
      return bundle.loadWebLlmModel(spec, onProgress, signal);
    }
    const backend = spec.engine ?? 'auto';
    const timings = new LoadTimings();
    /** The runtime on `files`, with the spec's options, the load's progress and `more`. */
    const run = (files: ModelFiles, more: Partial<LoadOptions> = {}): Promise<LoadedModel> =>
      loadLanguageModel(files, {
        backend,
        probeStore: probeStore(store),
        ...(spec.contextLength ? { contextLength: spec.contextLength } : {}),
        ...(spec.quantize ? { quantize: spec.quantize } : {}),
        signal,
        onProgress: (p) => onProgress({ phase: 'weights', loaded: p.loaded, total: p.total, file: p.file }),
        onPrepare: (done, total) => onProgress({ phase: 'prepare', loaded: done, total }),
        timings,
        ...more,
      });
    if (spec.files) {
      void compileSimdKernels();
      return loadLocalModel(spec, run, onProgress, signal, store);
    }
    await refuseWhatNoGpuRuns(spec, { fetch, store, gpuLimits, signal });
    try {
      return await loadThroughCache();
    } catch (e) {
      // Stored bytes that failed their checksum while loading (a damaged disk, storage cut short):
      // the cache dropped the damaged chunk and its manifest; load once more, which downloads that
      // chunk again (cached-model-files.ts) instead of failing until the user thinks of Retry.
      if (e instanceof GptError && REPAIRABLE.has(e)) return loadThroughCache();
      throw e;
    }

    async function loadThroughCache(): Promise<LoadResult> {
      void compileSimdKernels(); // while the weights download or are read back
      const notes: string[] = [];
      const files = await openCachedModel(spec.url, {
        signal,
        onNotKept: (message) => notes.push(message),
        onQuotaWarning: (w) => notes.push(w.message),
        ...(store ? { store } : {}),
        ...(fetch ? { fetch } : {}),
        ...(spec.sha256 ? { sha256: spec.sha256 } : {}),
        ...(confirmDownload ? { confirmDownload } : {}),
        timings,
        onProgress: (p) =>
          onProgress({
            phase: 'download',
            loaded: p.loaded,
            total: p.total,
            rate: p.bytesPerSecond,
            ...(p.secondsLeft !== null ? { eta: p.secondsLeft } : {}),
            file: p.file,
          }),
      });
      const result = (model: LoadedModel, quantizedFromCache: boolean): LoadResult => ({
        model,
        fromCache: files.fromCache,
        ...(quantizedFromCache ? { quantizedFromCache } : {}),
        ...(notes.length ? { notice: notes.join(' ') } : {}),
        timings: timings.toJSON(),
      });
      // Quantized on an earlier visit: read those weights, a quarter of the bytes, and skip quantizing.
      // Keyed by the model's content (derived-file.ts): a folder or a GGUF changed upstream never reuses it.
      const kept = spec.quantize ? files.derived(spec.quantize) : null;
      const keptFile = await kept?.find().catch(() => null);
      if (kept && keptFile) {
        try {
          return result(await run(files, { keptWeights: keptFile }), true);
        } catch (e) {
          // damaged or not of this model: dropped, never served again; the checkpoint keeps it anew
          if (!(e instanceof GptError) || !KEPT_FAULTS.has(e.code)) throw e;
          await kept.drop().catch(() => {});
        }
      }
      let model: LoadedModel;
      try {
        // kept weights are saved after the load, while the first reply can already run
        model = await run(files, kept ? { onKeepWeights: (file: KeptWeightsFile) => void kept.save(file).catch(() => {}) } : {});
      } catch (e) {
        if (e instanceof GptError && e.code === 'integrity') REPAIRABLE.add(e);
        // A model the runtime refuses (files it cannot parse, an architecture, tokenizer or type it
        // does not run) is no use cached: delete it, so that it is never served again as complete,
        // and say so. Downloading it again would fetch the same bytes, so it is not retried.
        if (!(e instanceof GptError) || !REFUSED.has(e.code)) throw e;
        const deleted = await deleteCachedModel(spec.url, store).then(
          () => true,
          () => false,
        );
        if (!deleted) throw e;
        throw new GptError(e.code, `${e.message} (The copy of this model on this device was deleted, so it is not used again.)`);
      }
      return result(model, false);
    }
  };
}

/** Load errors that mean the model's files are bad: for the GGUF and the folder alike. */
const REFUSED: ReadonlySet<string> = new Set([
  'bad-gguf', 'bad-json', 'bad-safetensors', 'bad-config', 'unsupported-model', 'unsupported-dtype',
  'missing-tensor', 'bad-tensor-shape', 'bad-template', 'file-missing',
]);

/** Faults of kept quantized weights (damaged, or not this model's): dropped, and the model loads from its files. */
const KEPT_FAULTS: ReadonlySet<string> = new Set(['integrity', 'bad-gguf', 'unsupported-dtype', 'missing-tensor', 'bad-tensor-shape']);

/** Integrity errors from reading the cache while loading: one more load repairs them. */
const REPAIRABLE = new WeakSet<GptError>();

/** The loader of the engine worker and the in-page engine. */
export const loadModel: ModelLoader = modelLoader();
