// Final hidden states (what a task head reads) on WebGPU (Dawn) against the CPU reference, on
// every parity architecture, as the logits are compared in webgpu-parity.test.ts.
import { describe, expect, it } from 'vitest';
import { nodeGpu, nodeModelFiles } from '../../../src/node.ts';
import { hiddenParity } from '../../helpers/hidden-parity.ts';
import { PARITY_FIXTURES } from '../../helpers/parity-cases.ts';

describe('final hidden states: WebGPU (Dawn) against the CPU reference', () => {
  for (const name of PARITY_FIXTURES) {
    it(`${name}: within 1e-3 at 4 positions of a 40-token sequence (prefill chunks of 16)`, async () => {
      const r = await hiddenParity(() => nodeModelFiles(`test/fixtures/generated/${name}`), { gpu: nodeGpu });
      expect(r.rows).toBe(4);
      expect(r.cpuMaxAbs).toBeGreaterThan(0.1); // real states, not zeros
      expect(r.maxAbs).toBeLessThan(1e-3);
      expect(r.sameHash).toBe(true);
    });
  }
});
