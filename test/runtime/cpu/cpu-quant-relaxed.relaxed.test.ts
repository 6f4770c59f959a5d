import { describe, expect, it } from 'vitest';
import { relaxedQuantKernelsSupported } from '../../../src/runtime/cpu/quant-kernels.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { q4PrefillAndDecodeLogits } from '../../helpers/parity-cases.ts';
import { RELAXED_CASES, relaxedAgainstPlain } from '../../helpers/relaxed-cases.ts';

// Run by vitest's 'relaxed-simd' project (vitest.config.ts), whose Node has
// --experimental-wasm-relaxed-simd: Node 20 validates the relaxed kernels only with that flag, so
// here they must run (no skip), and Q4_0 models load with them by default.
describe('relaxed-SIMD Q4_0 kernel in Node', () => {
  it('is what this engine validates (the project passes --experimental-wasm-relaxed-simd)', () => {
    expect(relaxedQuantKernelsSupported()).toBe(true);
  });

  for (const [T, I, O] of RELAXED_CASES) {
    it(`gives the plain-SIMD kernel's bits: T ${T}, I ${I}, O ${O}`, () => {
      const r = relaxedAgainstPlain(T, I, O, T * 7919 + I + O, O % 2 === 1);
      expect(r.relaxed).toEqual(r.plain);
      expect(r.relaxed.some((b) => b !== 0x7fc00000)).toBe(true); // the outputs were written
    });
  }

  // prefill runs tokens two at a time ($dot4x2) and an odd chunk's last alone, decode one at a
  // time; with the relaxed kernels too the logits must be decode's, bit for bit
  it('Q4_0 model: prefill in chunks of 7 gives decode\'s logits bit for bit', async () => {
    const { prefill, decode } = await q4PrefillAndDecodeLogits(nodeModelFiles('test/fixtures/generated/smollm2-135m'));
    expect(prefill).toEqual(decode);
  });
});
