import { expect } from 'chai';
import { httpModelFiles } from '../../../src/runtime/model-files-http.ts';
import { hiddenParity } from '../../helpers/hidden-parity.ts';

// The hidden-state parity of webgpu-hidden-parity.test.ts in headless Chromium's own WebGPU, on
// the three architectures the logits parity runs there.
const files = (name: string) => () => httpModelFiles(new URL(`/test/fixtures/generated/${name}/`, location.href).href);

describe('final hidden states: WebGPU in Chromium against the CPU reference', () => {
  for (const name of ['gpt2', 'llama', 'qwen2-f16']) {
    it(`${name}: within 1e-3 at 4 positions of a 40-token sequence`, async () => {
      const r = await hiddenParity(files(name));
      expect(r.rows).to.equal(4);
      expect(r.cpuMaxAbs).to.be.above(0.1);
      expect(r.maxAbs).to.be.below(1e-3);
      expect(r.sameHash).to.equal(true);
    });
  }
});
