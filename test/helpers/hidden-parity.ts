// Shared by the Node (Dawn) and Chromium hidden-state parity tests: the same check, two environments.
import type { ModelFiles } from '../../src/formats/model-files.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';
import type { AcquireDeviceOptions } from '../../src/runtime/webgpu/device.ts';
import { maxAbsDiff, seededIds } from './parity-cases.ts';

export interface HiddenParityReport {
  /** Largest |cpu - gpu| over every feature of every position. */
  maxAbs: number;
  /** Largest |cpu| (the states are real, not zeros). */
  cpuMaxAbs: number;
  rows: number;
  C: number;
  sameHash: boolean;
}

/** Final hidden states at 4 positions of a seeded 40-token sequence (prefill chunks of 16) on both backends. */
export async function hiddenParity(files: () => ModelFiles, device?: AcquireDeviceOptions): Promise<HiddenParityReport> {
  const cpu = await loadLanguageModel(files(), { backend: 'cpu', contextLength: 64, prefillChunk: 16 });
  const gpu = await loadLanguageModel(files(), { backend: 'webgpu', contextLength: 64, prefillChunk: 16, device });
  try {
    const ids = seededIds(40, cpu.config.V, 3);
    const positions = [39, 0, 17, 31];
    const hc = await cpu.hiddenStates(ids, positions);
    const hg = await gpu.hiddenStates(ids, positions);
    return { maxAbs: maxAbsDiff(hc, hg), cpuMaxAbs: Math.max(...hc.map(Math.abs)), rows: hg.length / cpu.config.C, C: cpu.config.C, sameHash: gpu.weightsHash === cpu.weightsHash };
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}
