/**
 * `engine: 'webgpu'` on a model that cannot run on this GPU at all is refused before anything is
 * downloaded: config.json alone (a few hundred bytes) says how large the run state's buffers are,
 * and the adapter says how large a binding it offers (runtime/webgpu/gpu-fit.ts decides).
 *
 * Only for 'webgpu' and a folder not yet cached: 'auto' needs the download either way (it runs on
 * the CPU what the GPU cannot, see createBackend); a cached or local model is checked by the
 * runtime from this device's copy before any weight is read; a GGUF keeps its config in a header
 * that may be megabytes of tokenizer, so it is checked the same way, after its download.
 */
import { isModelCached, type CacheStore } from '../cache/index.ts';
import { ggufFileName, canonicalModelUrl, isLocalModel, modelFileUrl } from '../formats/model-location.ts';
import { adapterLimits, gpuFitError, gpuFitProblem, parseModelConfig, type GpuBindingLimits } from '../runtime/index.ts';
import type { ModelSpec } from './engine.ts';

/** What {@link refuseWhatNoGpuRuns} reads through. */
export interface GpuPrecheckDeps {
  readonly fetch?: typeof fetch;
  readonly store?: CacheStore;
  /** The adapter's binding limits (default: `navigator.gpu`'s adapter, null without one). */
  readonly gpuLimits?: () => Promise<GpuBindingLimits | null>;
  readonly signal?: AbortSignal;
}

/**
 * Throws GptError 'gpu-out-of-memory' when `spec` asks for WebGPU and its model's run state does
 * not fit this GPU's bindings, having fetched only config.json. Anything it cannot read (no
 * adapter, an unreachable or broken config.json) it leaves to the load, which reports it in its
 * own words.
 */
export async function refuseWhatNoGpuRuns(spec: ModelSpec, deps: GpuPrecheckDeps = {}): Promise<void> {
  if (spec.engine !== 'webgpu' || spec.files) return;
  const base = canonicalModelUrl(spec.url);
  if (ggufFileName(base) !== null || isLocalModel(base)) return;
  const limits = await (deps.gpuLimits ?? adapterLimits)();
  if (!limits || (await isModelCached(base, deps.store).catch(() => false))) return;
  const config = await readConfig(base, deps);
  if (!config) return;
  const problem = gpuFitProblem(config, limits, spec.contextLength ? { contextLength: spec.contextLength } : {});
  if (problem) throw gpuFitError(problem, 'Nothing was downloaded.');
}

async function readConfig(base: string, { fetch: fetchFn = globalThis.fetch.bind(globalThis), signal }: GpuPrecheckDeps) {
  try {
    const res = await fetchFn(modelFileUrl(base, 'config.json'), signal ? { signal } : {});
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    return parseModelConfig(await res.text(), 'config.json');
  } catch {
    signal?.throwIfAborted();
    return null;
  }
}
