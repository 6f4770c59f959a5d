import type { Backend, Weight } from './backend.ts';
import type { ModelConfig } from './model/config.ts';
import { GptModel } from './model/gpt-model.ts';
import { assembleWeights, tensorPlan } from './model/tensor-names.ts';

/** Layers of the probe model: enough that a layer's matmuls weigh against the head's. */
const PROBE_LAYERS = 2;
/** Vocabulary of the probe model: the head is one more matmul, it need not be the model's size. */
const PROBE_VOCAB = 4096;
/** Decode steps run before timing (the first compiles kernels, the second warms caches). */
const WARM_UP = 2;
const TIMED = 3;

/**
 * Milliseconds of one decode step of a model shaped like `cfg` (its widths and heads, two layers,
 * a 4096-token head, f32 weights left zero) on `backend`: the fastest of three steps after a
 * warm-up. Which backend is faster for a model is a ratio of such steps, so the probe keeps the
 * shape that sets it (matmul widths, heads) and drops what only scales both (layers, vocabulary).
 * Destroys `backend`.
 */
export async function probeDecodeMs(backend: Backend, cfg: ModelConfig): Promise<number> {
  const probeCfg: ModelConfig = { ...cfg, L: Math.min(cfg.L, PROBE_LAYERS), V: Math.min(cfg.V, PROBE_VOCAB) };
  const created = new Map<string, Weight>();
  for (const w of tensorPlan(probeCfg)) created.set(w.key, backend.createWeight(w.key, w.rows, w.cols, 'f32'));
  const model = new GptModel(probeCfg, backend, assembleWeights(probeCfg, created), { contextLength: WARM_UP + TIMED + 1, prefillChunk: 1 });
  try {
    await model.prefill([0]);
    for (let i = 1; i < WARM_UP; i++) await model.decode(0);
    let best = Infinity;
    for (let i = 0; i < TIMED; i++) {
      const t0 = performance.now();
      await model.decode(0);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  } finally {
    model.dispose();
  }
}
