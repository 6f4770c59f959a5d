/**
 * The web-llm engine's entry: bundled alone as dist/gpt-chat-webllm.js and imported at run time
 * by src/engine/load-model.ts only when `engine="webllm"` is asked for, so web-llm (several MB)
 * is never part of gpt-chat.js or the worker bundle.
 */
import type { EngineLoadProgress, ModelSpec } from '../engine/engine.ts';
import type { LoadedModel } from '../engine/load-model.ts';
import { GptError } from '../errors.ts';
import { importWebLlmLibrary } from './library.ts';
import { resolveWebLlmModel } from './model-id.ts';
import type { WebLlmModule, WebLlmProgressReport } from './webllm-api.ts';
import { noWebGpu, webLlmError } from './webllm-errors.ts';
import { WebLlmModel } from './webllm-model.ts';

/** Used when neither the spec nor web-llm's record gives a context window (web-llm's own default is in the model's config, which it does not expose). */
const DEFAULT_CONTEXT = 2048;

/**
 * Loads `spec.url` (a web-llm prebuilt model id, or a URL ending in one; see model-id.ts) into a
 * new MLCEngine, reporting progress. Aborting `signal` unloads the engine, which cancels web-llm's
 * downloads. `importWebLlm` and `gpu` are seams for tests (a stand-in module, no WebGPU).
 */
export async function loadWebLlmModel(
  spec: ModelSpec,
  onProgress: (p: EngineLoadProgress) => void,
  signal: AbortSignal,
  importWebLlm: () => Promise<WebLlmModule> = importWebLlmLibrary,
  gpu: unknown = globalThis.navigator?.gpu,
): Promise<{ model: LoadedModel; fromCache: boolean }> {
  signal.throwIfAborted();
  // Checked before importing several MB that could not run anyway.
  if (!gpu) throw noWebGpu();
  let webllm: WebLlmModule;
  try {
    webllm = await importWebLlm();
  } catch (e) {
    throw GptError.from(e);
  }
  const { modelId, record, appConfig } = resolveWebLlmModel(spec.url, webllm.prebuiltAppConfig);
  const fromCache = await Promise.resolve(webllm.hasModelInCache?.(modelId, appConfig)).catch(() => false) === true;
  const contextLength = spec.contextLength ?? record.overrides?.context_window_size ?? DEFAULT_CONTEXT;
  const progress = progressMapper(fromCache, (record.vram_required_MB ?? 0) * 2 ** 20);
  const engine = new webllm.MLCEngine({
    appConfig,
    initProgressCallback: (report) => {
      const p = progress(report);
      if (p && !signal.aborted) onProgress(p);
    },
  });
  const onAbort = () => void engine.unload().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await engine.reload(modelId, spec.contextLength ? { context_window_size: spec.contextLength } : undefined);
    signal.throwIfAborted();
  } catch (e) {
    void engine.unload().catch(() => {});
    throw webLlmError(e, signal.aborted);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return { model: new WebLlmModel(engine, modelId, contextLength), fromCache };
}

/**
 * web-llm reports a fraction and a sentence ("Fetching param cache[3/20]: 120MB fetched. 37%
 * completed, ..."; "Loading model from cache[...]: 120MB loaded. ..."). The element shows bytes,
 * so they are read from the sentence and the total follows from the fraction. A report without
 * bytes before any with them ("Start to fetch params") is scaled against the model's VRAM
 * estimate; one after them (shader compilation, "Finish loading") is the 'weights' phase.
 */
export function progressMapper(fromCache: boolean, estimatedBytes: number): (report: WebLlmProgressReport) => EngineLoadProgress | undefined {
  let total = estimatedBytes;
  let sawBytes = false;
  return ({ progress, timeElapsed, text }) => {
    const fraction = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
    const mb = /(\d+)\s*MB (fetched|loaded)/.exec(text);
    if (!mb) {
      if (!(total > 0)) return undefined;
      const phase = sawBytes ? 'weights' : fromCache ? 'cache' : 'download';
      return { phase, loaded: Math.round(total * fraction), total };
    }
    sawBytes = true;
    const loaded = Number(mb[1]) * 2 ** 20;
    if (fraction > 0) total = Math.max(loaded, Math.round(loaded / fraction));
    if (!(total > 0)) return undefined;
    const rate = timeElapsed > 0 ? loaded / timeElapsed : undefined;
    return {
      phase: mb[2] === 'loaded' ? 'cache' : 'download',
      loaded: Math.min(loaded, total),
      total,
      ...(rate ? { rate, eta: Math.max(0, (total - loaded) / rate) } : {}),
    };
  };
}
