import { expect } from 'chai';
import { relaxedQuantKernelsSupported } from '../../../src/runtime/cpu/quant-kernels.ts';
import { RELAXED_CASES, relaxedAgainstPlain } from '../../helpers/relaxed-cases.ts';

// Chromium has relaxed SIMD on by default (114+), so the CPU backend there runs Q4_0 in
// kernels/matmul-q4-0-relaxed.wat: the same bits as the plain-SIMD kernel, compared here in the
// engine visitors use.
describe('relaxed-SIMD Q4_0 kernel in Chromium', () => {
  it('is what Chromium validates', () => {
    expect(relaxedQuantKernelsSupported()).to.equal(true);
  });

  for (const [T, I, O] of RELAXED_CASES) {
    it(`gives the plain-SIMD kernel's bits: T ${T}, I ${I}, O ${O}`, () => {
      const r = relaxedAgainstPlain(T, I, O, T * 7919 + I + O, O % 2 === 1);
      expect(Array.from(r.relaxed)).to.deep.equal(Array.from(r.plain));
      expect(r.relaxed.some((b) => b !== 0x7fc00000)).to.equal(true);
    });
  }
});
