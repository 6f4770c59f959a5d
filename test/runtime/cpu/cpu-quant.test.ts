import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/runtime/backend.ts';
import { checkedBackend } from '../../../src/runtime/checked-backend.ts';
import { CpuBackend } from '../../../src/runtime/cpu/cpu-backend.ts';
import { GptError } from '../../../src/errors.ts';
import { dequantizeMatrix } from '../../../src/runtime/quant/dequantize.ts';
import { QUANT_DTYPES } from '../../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { BLOCK, gaussian, magnitudes, quantCase, quantShapes, runQuantMatmul } from '../../helpers/quant-cases.ts';

// Quantized weights in the CPU backend, through the Backend interface: matmul on the SIMD kernels
// and on the TS path against dequantize-then-f32 (QuantCase.ref), and embed of a quantized table.
// The SIMD kernels also round the activations to 8 bits per block of 32 (the rigorous per-output
// bound is checked in cpu-quant-kernels.test.ts); on these Gaussian cases that error stays under
// 0.5% of sum |w x| (measured worst: 0.21%, q8_0 T 3, I 96, O 33). The TS path is the reference.

const backend = (simd: boolean): Backend => new CpuBackend({ simd });

describe('CpuBackend with quantized weights', () => {
  for (const dtype of QUANT_DTYPES) {
    for (const [T, I, O] of quantShapes(dtype)) {
      it(`${dtype} matmul T ${T}, I ${I}, O ${O}: SIMD within 0.5% of sum |w x|, TS path equal to dequantize-then-f32`, async () => {
        const c = quantCase(dtype, T, I, O, 31 * T + I + O, O % 2 === 1);
        const scale = magnitudes(dtype, c.w, c.x, c.bias, T, I, O);
        const simd = await runQuantMatmul(backend(true), dtype, c, T, I, O);
        for (let k = 0; k < T * O; k++) expect(Math.abs(simd[k] - c.ref[k])).toBeLessThanOrEqual(0.005 * scale[k] + 1e-6);
        const ts = await runQuantMatmul(backend(false), dtype, c, T, I, O);
        for (let k = 0; k < T * O; k++) expect(Math.abs(ts[k] - c.ref[k])).toBeLessThanOrEqual(1e-6 * scale[k]);
      });
    }

    it(`${dtype} embed dequantizes just the rows asked for, exactly`, async () => {
      const V = 9;
      const C = 2 * BLOCK[dtype];
      const table = quantizeMatrix(dtype, gaussian(V * C, 3), V, C);
      const rows = dequantizeMatrix(dtype, table, V, C);
      for (const simd of [true, false]) {
        const b = backend(simd);
        const w = b.createWeight('tokEmb', V, C, dtype);
        b.writeWeight(w, 0, table);
        const out = b.createActivation(3, C);
        b.embed(out, Int32Array.of(8, 0, 4), 3, w, null, 0);
        const got = new Float32Array(3 * C);
        await b.read(out, 3, got);
        expect(got.subarray(0, C)).toEqual(rows.subarray(8 * C, 9 * C));
        expect(got.subarray(C, 2 * C)).toEqual(rows.subarray(0, C));
        expect(got.subarray(2 * C)).toEqual(rows.subarray(4 * C, 5 * C));
        b.destroy();
      }
    });
  }

  it('keeps quantized weights quantized: the arena holds the blocks, not floats', () => {
    const b = new CpuBackend({ simd: true });
    const before = b.bytesAllocated;
    b.createWeight('w', 1024, 1024, 'q4_0');
    expect(b.bytesAllocated - before).toBeLessThan(1024 * 1024 * 0.6); // 18 bytes per 32 weights
    b.destroy();
  });

  it('refuses writes that are not whole blocks, or rows that are not whole blocks', () => {
    const b = checkedBackend(new CpuBackend());
    const w = b.createWeight('layers.0.wo', 4, 64, 'q8_0');
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as GptError).code + ': ' + (e as GptError).message;
      }
      return 'no error';
    };
    expect(code(() => b.writeWeight(w, 0, new Uint8Array(33)))).toMatch(/^bad-argument: .*layers\.0\.wo.*34 bytes/);
    expect(code(() => b.writeWeight(w, 16, new Uint8Array(34)))).toMatch(/^bad-argument: .*offset 16 does not start a q8_0 block/);
    expect(code(() => b.writeWeight(w, 64 * 3, new Uint8Array(34 * 3)))).toMatch(/^bad-tensor-shape: /);
    expect(code(() => b.createWeight('layers.0.wqkv', 4, 48, 'q4_0'))).toMatch(/^bad-tensor-shape: .*layers\.0\.wqkv.*48.*q4_0/);
    b.destroy();
  });
});
