// Shared by the Node (Dawn) and Chromium parity tests: the same checks, two environments.
import type { ModelFiles } from '../../src/formats/model-files.ts';
import { loadLanguageModel, logSoftmaxAt, type LanguageModel } from '../../src/runtime/index.ts';
import type { AcquireDeviceOptions } from '../../src/runtime/webgpu/device.ts';

/** The architectures the runtime issue names, as fixtures of tools/make-fixtures.mjs. */
export const PARITY_FIXTURES = [
  'gpt2', // learned positions, LayerNorm, GELU, biases, Conv1D layout, tied
  'llama', // GQA, untied head
  'smollm2-135m', // SmolLM2-like: GQA, tied
  'qwen2.5-0.5b', // Qwen2-like: q/k/v biases, tied
  'smollm2-bf16', // 16-bit weights unpacked in the shader
  'qwen2-f16',
] as const;

/** A deterministic list of n ids in [0, V). */
export function seededIds(n: number, V: number, seed: number): number[] {
  let s = seed >>> 0;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids.push(s % V);
  }
  return ids;
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface ParityReport {
  prefillMaxAbs: number;
  decodeMaxAbs: number;
  cpuIds: number[];
  gpuIds: number[];
}

/**
 * Prefills `prefill` seeded tokens on both backends, then decodes `steps` greedy tokens, comparing
 * the logits after every step. Each backend follows its own argmax, so identical ids prove the
 * greedy paths agree. `device` says where WebGPU comes from (Node passes Dawn's nodeGpu).
 */
export async function runParity(files: () => ModelFiles, device?: AcquireDeviceOptions, prefill = 32, steps = 64): Promise<ParityReport> {
  const cpu = await loadLanguageModel(files(), { backend: 'cpu', contextLength: prefill + steps + 1 });
  const gpu = await loadLanguageModel(files(), { backend: 'webgpu', contextLength: prefill + steps + 1, device });
  try {
    const ids = seededIds(prefill, cpu.config.V, 7);
    let lc = (await cpu.model.prefill(ids)).slice();
    let lg = (await gpu.model.prefill(ids)).slice();
    const report: ParityReport = { prefillMaxAbs: maxAbsDiff(lc, lg), decodeMaxAbs: 0, cpuIds: [], gpuIds: [] };
    for (let step = 0; step < steps; step++) {
      const c = argmax(lc);
      const g = argmax(lg);
      report.cpuIds.push(c);
      report.gpuIds.push(g);
      lc = (await cpu.model.decode(c)).slice();
      lg = (await gpu.model.decode(g)).slice();
      report.decodeMaxAbs = Math.max(report.decodeMaxAbs, maxAbsDiff(lc, lg));
    }
    return report;
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}

/**
 * The continuation log-probability with the KV cache reused, and the same sum computed without
 * the cache: a fresh prefill of prefix + continuation[0..i) for every i.
 */
export async function scoreWithAndWithoutCache(lm: LanguageModel, prefix: number[], continuation: number[]): Promise<{ cached: number; perToken: number[]; bruteForce: number[] }> {
  const scored = await lm.scoreContinuation(prefix, continuation);
  const bruteForce: number[] = [];
  for (let i = 0; i < continuation.length; i++) {
    lm.model.rewind(0);
    const logits = await lm.model.prefill([...prefix, ...continuation.slice(0, i)]);
    bruteForce.push(logSoftmaxAt(logits, 0, lm.config.V, continuation[i]));
  }
  return { cached: scored.total, perToken: Array.from(scored.perToken), bruteForce };
}

/**
 * The SmolLM2 fixture quantized to Q4_0 on the CPU: the logits after 20 seeded ids prefilled in
 * chunks of 7 (Q4_0 runs a prefill's tokens two at a time, an odd chunk's last alone) and after
 * the same ids decoded one at a time, which must be the same bits.
 */
export async function q4PrefillAndDecodeLogits(files: ModelFiles): Promise<{ prefill: Float32Array; decode: Float32Array }> {
  const lm = await loadLanguageModel(files, { backend: 'cpu', quantize: 'q4_0', prefillChunk: 7 });
  try {
    const ids = seededIds(20, lm.config.V, 7);
    const prefill = (await lm.model.prefill(ids)).slice();
    lm.model.rewind(0);
    let last: Float32Array = new Float32Array();
    for (const id of ids) last = await lm.model.decode(id);
    return { prefill, decode: Float32Array.from(last) };
  } finally {
    lm.dispose();
  }
}
