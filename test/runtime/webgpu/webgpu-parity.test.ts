import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeGpu, nodeModelFiles } from '../../../src/node.ts';
import { PARITY_FIXTURES, runParity, scoreWithAndWithoutCache, seededIds } from '../../helpers/parity-cases.ts';

const files = (name: string) => () => nodeModelFiles(`test/fixtures/generated/${name}`);

describe('WebGPU (Dawn) against the CPU reference', () => {
  for (const name of PARITY_FIXTURES) {
    it(`${name}: logits within 1e-3 after a 32-token prefill and over 64 greedy decode steps, same ids`, async () => {
      const r = await runParity(files(name), { gpu: nodeGpu });
      expect(r.prefillMaxAbs).toBeLessThan(1e-3);
      expect(r.decodeMaxAbs).toBeLessThan(1e-3);
      expect(r.gpuIds).toEqual(r.cpuIds);
    });
  }

  it('scores a continuation on the GPU as teacher forcing without the cache', async () => {
    const lm = await loadLanguageModel(files('qwen2.5-0.5b')(), { backend: 'webgpu', prefillChunk: 4 });
    try {
      const r = await scoreWithAndWithoutCache(lm, seededIds(9, lm.config.V, 1), seededIds(6, lm.config.V, 2));
      r.perToken.forEach((v, i) => expect(Math.abs(v - r.bruteForce[i])).toBeLessThan(1e-3));
    } finally {
      lm.dispose();
    }
  });
});
