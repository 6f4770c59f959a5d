import { expect } from 'chai';
import { httpModelFiles } from '../../../src/runtime/model-files-http.ts';
import { runParity } from '../../helpers/parity-cases.ts';

// The same parity check as test/runtime/webgpu/webgpu-parity.test.ts, in headless Chromium's own WebGPU. Three
// architectures keep the browser run short: GPT-2 (LayerNorm, learned positions, Conv1D), Llama
// (RoPE, GQA, untied head) and Qwen2 in f16 (biases, 16-bit weights unpacked in the shader).
const files = (name: string) => () => httpModelFiles(new URL(`/test/fixtures/generated/${name}/`, location.href).href);

describe('WebGPU in Chromium against the CPU reference', () => {
  for (const name of ['gpt2', 'llama', 'qwen2-f16']) {
    it(`${name}: logits within 1e-3 after a 32-token prefill and over 64 greedy decode steps, same ids`, async () => {
      const r = await runParity(files(name));
      expect(r.prefillMaxAbs).to.be.below(1e-3);
      expect(r.decodeMaxAbs).to.be.below(1e-3);
      expect(r.gpuIds).to.deep.equal(r.cpuIds);
    });
  }
});
