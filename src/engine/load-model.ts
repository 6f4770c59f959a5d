/**
 * How the engine turns a {@link ModelSpec} into a running model: through the IndexedDB cache
 * (download once, then read from this device) into our runtime. The only file of src/engine that
 * knows the cache's and the runtime's APIs; the in-page engine receives it as a parameter so tests
 * can hand it a fake model.
 */
import { deleteCachedModel, isModelCached, openCachedModel } from '../cache/index.ts';
import { loadLanguageModel } from '../runtime/index.ts';
import { GptError } from '../errors.ts';
import { canonicalModelUrl } from '../formats/model-location.ts';
import type { ScoringModel } from '../templates/score.ts';
import type { FeatureModel } from '../templates/head/features.ts';
import { webLlmBundleUrl } from './webllm-url.ts';
import type { ChatMessage, EngineLoadProgress, ModelSpec, SamplingOptions } from './engine.ts';

/** What the engine needs of a loaded model (the runtime's LanguageModel has this shape). */
export interface LoadedModel {
  readonly backendKind: 'webgpu' | 'cpu' | 'webllm';
  readonly contextLength: number;
  readonly config: { readonly modelType: string; readonly C?: number };
  /** Set when WebGPU was asked for but missing and the CPU was used. */
  readonly notice?: string;
  generate(
    messages: readonly ChatMessage[],
    options: SamplingOptions & { readonly signal?: AbortSignal },
  ): AsyncGenerator<{ readonly id: number; readonly text: string }, { readonly finishReason: 'eos' | 'stop' | 'length' | 'aborted'; readonly promptTokens: number; readonly generatedTokens: number }>;
  encode(messages: readonly ChatMessage[]): number[];
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
  dispose(): void;
}

/** Loads `spec`, reporting progress; `fromCache` is true when no byte came from the network. */
export type ModelLoader = (
  spec: ModelSpec,
  onProgress: (p: EngineLoadProgress) => void,
  signal: AbortSignal,
) => Promise<{ model: LoadedModel; fromCache: boolean }>;

/** What the web-llm bundle (dist/gpt-chat-webllm.js, from src/webllm/load.ts) exports. */
export interface WebLlmEngineModule {
  loadWebLlmModel: ModelLoader;
}

/**
 * The web-llm engine, imported by URL at run time: a URL only known at run time is left alone by
 * bundlers, so web-llm stays out of the worker bundle (which inlines every dynamic import).
 */
const importWebLlmBundle = (): Promise<WebLlmEngineModule> => import(/* @vite-ignore */ webLlmBundleUrl());

/**
 * The real loader: the cache (src/cache) feeding the runtime (src/runtime), or for
 * `engine: 'webllm'` the web-llm engine, fetched only then. `importWebLlm` is a seam for tests.
 */
export const loadModel = async (
  spec: ModelSpec,
  onProgress: (p: EngineLoadProgress) => void,
  signal: AbortSignal,
  importWebLlm: () => Promise<WebLlmEngineModule> = importWebLlmBundle,
): Promise<{ model: LoadedModel; fromCache: boolean }> => {
  if (spec.engine === 'webllm') {
    let bundle: WebLlmEngineModule;
    try {
      bundle = await importWebLlm();
    } catch (e) {
      throw new GptError('network', `Could not load the web-llm engine (gpt-chat-webllm.js, expected beside gpt-chat-worker.js): ${e instanceof Error ? e.message : String(e)}. Serve it from the same folder, or use engine="auto".`);
    }
    return bundle.loadWebLlmModel(spec, onProgress, signal);
  }
  const url = canonicalModelUrl(spec.url);
  const fromCache = await isModelCached(url).catch(() => false);
  const notes: string[] = [];
  const files = await openCachedModel(url, {
    signal,
    onNotKept: (message) => notes.push(message),
    onQuotaWarning: (w) => notes.push(w.message),
    ...(spec.sha256 ? { sha256: spec.sha256 } : {}),
    onProgress: (p) =>
      onProgress({
        phase: fromCache ? 'cache' : 'download',
        loaded: p.loaded,
        total: p.total,
        rate: p.bytesPerSecond,
        ...(p.secondsLeft !== null ? { eta: p.secondsLeft } : {}),
        file: p.file,
      }),
  });
  let model: LoadedModel;
  try {
    model = await loadLanguageModel(files, {
      backend: spec.engine ?? 'auto',
      ...(spec.contextLength ? { contextLength: spec.contextLength } : {}),
      ...(spec.quantize ? { quantize: spec.quantize } : {}),
      signal,
      onProgress: (p) => onProgress({ phase: 'weights', loaded: p.loaded, total: p.total, file: p.file }),
    });
  } catch (e) {
    // A GGUF the runtime refuses (an architecture, tokenizer or type it does not run) is no use
    // cached: drop it, so that it is not kept as a complete model.
    if (files.ggufFile !== undefined && e instanceof GptError && REFUSED.has(e.code)) await deleteCachedModel(url).catch(() => {});
    throw e;
  }
  if (notes.length) return { model: withNotice(model, [model.notice, ...notes].filter(Boolean).join(' ')), fromCache };
  return { model, fromCache };
};

const REFUSED: ReadonlySet<string> = new Set(['bad-gguf', 'unsupported-model', 'unsupported-dtype', 'bad-config', 'missing-tensor', 'bad-tensor-shape']);

/** `model` with `notice` replaced (the runtime's own notice is kept in the text). */
function withNotice(model: LoadedModel, notice: string): LoadedModel {
  return {
    backendKind: model.backendKind,
    contextLength: model.contextLength,
    config: model.config,
    notice,
    generate: (messages, options) => model.generate(messages, options),
    encode: (messages) => model.encode(messages),
    ...(model.tokenizer ? { tokenizer: model.tokenizer } : {}),
    ...(model.model ? { model: model.model } : {}),
    dispose: () => model.dispose(),
  };
}
