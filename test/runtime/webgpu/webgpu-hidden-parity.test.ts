// Final hidden states (what a task head reads) on WebGPU (Dawn) against the CPU reference, on
// every parity architecture, as the logits are compared in webgpu-parity.test.ts.
import { describe, expect, it } from 'vitest';
import { loadLanguageModel } from '../../../src/runtime/index.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { maxAbsDiff, PARITY_FIXTURES, seededIds } from '../../helpers/parity-cases.ts';

describe('final hidden states: WebGPU (Dawn) against the CPU reference', () => {
  for (const name of PARITY_FIXTURES) {
    it(`${name}: within 1e-3 at 4 positions of a 40-token sequence (prefill chunks of 16)`, async () => {
      const files = () => nodeModelFiles(`test/fixtures/generated/${name}`);
      const cpu = await loadLanguageModel(files(), { backend: 'cpu', contextLength: 64, prefillChunk: 16 });
      const gpu = await loadLanguageModel(files(), { backend: 'webgpu', contextLength: 64, prefillChunk: 16 });
      try {
        const ids = seededIds(40, cpu.config.V, 3);
        const positions = [39, 0, 17, 31];
        const hc = await cpu.hiddenStates(ids, positions);
        const hg = await gpu.hiddenStates(ids, positions);
        expect(hg.length).toBe(positions.length * cpu.config.C);
        expect(Math.max(...hc.map(Math.abs))).toBeGreaterThan(0.1); // real states, not zeros
        expect(maxAbsDiff(hc, hg)).toBeLessThan(1e-3);
        expect(gpu.weightsHash).toBe(cpu.weightsHash);
      } finally {
        cpu.dispose();
        gpu.dispose();
      }
    });
  }
});
