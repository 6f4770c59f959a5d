import { describe, expect, it } from 'vitest';
import { instantiateQuantKernels, matmulQuantSimd, QuantActivationScratch, quantKernelsSupported } from '../../../src/runtime/cpu/quant-kernels.ts';
import { matmulQuantForward } from '../../../src/runtime/cpu/quant-weights.ts';
import { WasmArena } from '../../../src/runtime/cpu/wasm-arena.ts';
import { dequantizeMatrix } from '../../../src/runtime/quant/dequantize.ts';
import { QUANT_DTYPES, type QuantDType } from '../../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { BLOCK, gaussian, quantShapes } from '../../helpers/quant-cases.ts';

// The quantized matmul kernels (kernels/matmul-q*.wat) against the dequantize-then-f32 reference
// (matmulQuantForward: the weights dequantized by ggml's rules, summed in float64). The kernels
// also quantize the activations to 8 bits per block of 32 (step dx = amax / 127), so they may
// differ from the reference by at most half a step per activation times the weight it meets:
//   |kernel - ref| <= sum_i |w_i| dx_b(i) / 2 + 1e-5 sum_i |w_i x_i|   (the last term: f32 sums)
// a bound that holds for every output, which the tests check element by element; and on Gaussian
// data the typical error is far below it, which they check too (RMS under 1% of the outputs' RMS).

function setup(dtype: QuantDType, T: number, I: number, O: number, seed: number, withBias: boolean) {
  const arena = new WasmArena();
  const kernels = instantiateQuantKernels(arena.memory);
  const scratch = new QuantActivationScratch(arena);
  const wf = gaussian(O * I, seed);
  const bytes = quantizeMatrix(dtype, wf, O, I);
  const w = arena.allocBytes(bytes.length)!;
  w.view.set(bytes);
  const inp = arena.alloc(T * I)!;
  inp.view.set(gaussian(T * I, seed + 1));
  const bias = withBias ? arena.alloc(O)! : null;
  bias?.view.set(gaussian(O, seed + 2));
  const out = arena.alloc(T * O)!;
  return { arena, kernels, scratch, bytes, w, inp, bias, out };
}

// the bound of the header, per output (T, O)
function bounds(wq: Float32Array, x: Float32Array, T: number, I: number, O: number): Float32Array {
  const bound = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    const dx = new Float32Array(I / 32);
    for (let b = 0; b < I / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[t * I + 32 * b + j]));
      dx[b] = amax / 127;
    }
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += Math.abs(wq[o * I + i]) * (dx[i >> 5] / 2 + 1e-5 * Math.abs(x[t * I + i]));
      bound[t * O + o] = s + 1e-6;
    }
  }
  return bound;
}

describe.skipIf(!quantKernelsSupported())('quantized matmul kernels (WebAssembly SIMD) against dequantize-then-f32', () => {
  for (const dtype of QUANT_DTYPES) {
    const block = BLOCK[dtype];
    // quantShapes' row counts all leave 1 or 3 rows past a multiple of 4 (the four-row kernels'
    // remainder); these add exactly 4, 8 and 12 rows, and 2 and 6 left over
    const fours: [number, number, number][] = [[1, block, 4], [2, 2 * block, 6], [3, block, 8], [1, 3 * block, 12], [2, block, 2]];
    for (const [T, I, O] of [...quantShapes(dtype), ...fours]) {
      it(`${dtype}: T ${T}, I ${I}, O ${O} within the activation-rounding bound`, () => {
        const s = setup(dtype, T, I, O, T * 1000 + I + O, O % 2 === 1);
        const ref = new Float32Array(T * O);
        matmulQuantForward(ref, s.inp.view, s.bytes, dtype, s.bias?.view ?? null, T, I, O);
        expect(matmulQuantSimd(s.kernels, s.scratch, s.out, s.inp, s.w, dtype, s.bias, T, I, O)).toBe(true);
        const got = s.out.view;
        const bound = bounds(dequantizeMatrix(dtype, s.bytes, O, I), s.inp.view, T, I, O);
        let err2 = 0;
        let ref2 = 0;
        for (let k = 0; k < T * O; k++) {
          expect(Math.abs(got[k] - ref[k])).toBeLessThanOrEqual(bound[k]);
          err2 += (got[k] - ref[k]) ** 2;
          ref2 += ref[k] ** 2;
        }
        expect(Math.sqrt(err2 / ref2)).toBeLessThan(0.01);
      });
    }

    // T 5 and 64 (a prefill chunk): Q4_0 runs tokens two at a time through its own function
    // ($dot4x2) and an odd last token alone, so the pairs, the lone token and the rows past a
    // multiple of 4 (O = 13) are all compared with T = 1 calls, bit for bit
    for (const T of [5, 64]) {
      it(`${dtype}: a token's outputs are the same bits whether it ran alone or among ${T}`, () => {
        const I = 2 * block;
        const O = 13;
        const s = setup(dtype, T, I, O, 42 + T, true);
        matmulQuantSimd(s.kernels, s.scratch, s.out, s.inp, s.w, dtype, s.bias, T, I, O);
        const batch = new Uint32Array(s.out.view.slice().buffer);
        const one = s.arena.alloc(I)!;
        const outOne = s.arena.alloc(O)!;
        for (let t = 0; t < T; t++) {
          one.view.set(s.inp.view.subarray(t * I, (t + 1) * I));
          matmulQuantSimd(s.kernels, s.scratch, outOne, one, s.w, dtype, s.bias, 1, I, O);
          expect(new Uint32Array(outOne.view.slice().buffer)).toEqual(batch.subarray(t * O, (t + 1) * O));
        }
      });
    }

    it(`${dtype}: zero activations give exactly the bias`, () => {
      const s = setup(dtype, 2, block, 3, 5, true);
      s.inp.view.fill(0);
      matmulQuantSimd(s.kernels, s.scratch, s.out, s.inp, s.w, dtype, s.bias, 2, block, 3);
      expect(s.out.view).toEqual(Float32Array.from([...s.bias!.view, ...s.bias!.view]));
    });
  }
});
