// The relaxed-SIMD Q4_0 kernel (kernels/matmul-q4-0-relaxed.wat) against the plain-SIMD one, bit
// for bit, shared by the Node test (run with --experimental-wasm-relaxed-simd) and the Chromium one.
import { instantiateQuantKernels, matmulQuantSimd, QuantActivationScratch } from '../../src/runtime/cpu/quant-kernels.ts';
import { WasmArena } from '../../src/runtime/cpu/wasm-arena.ts';
import { quantizeMatrix } from '../../src/runtime/quant/quantize.ts';
import { gaussian } from './quant-cases.ts';

/** (T, I, O) cases: T 1 (decode), 5 (pairs and a lone token), 64 (a prefill chunk); O never a multiple of 4. */
export const RELAXED_CASES: [number, number, number][] = [
  [1, 32, 1],
  [1, 576, 67],
  [5, 64, 13],
  [5, 288, 3],
  [64, 576, 67],
  [64, 1536, 13],
];

/**
 * Q4_0 weights (O, I) whose quants are random bytes (every nibble 0..15 about equally often, 0
 * and 15 included) under the scales of a real quantization, activations that cover the
 * quantizer's edges (a zero block, a block of one spike: q = +-127 and 0s, sizes from 1e-3 to 1e3),
 * and the outputs (T, O) of both kernels over them, as bits.
 */
export function relaxedAgainstPlain(T: number, I: number, O: number, seed: number, withBias: boolean): { plain: Uint32Array; relaxed: Uint32Array } {
  const arena = new WasmArena();
  const plain = instantiateQuantKernels(arena.memory, false);
  const relaxed = instantiateQuantKernels(arena.memory, true);
  const scratch = new QuantActivationScratch(arena);
  const bytes = quantizeMatrix('q4_0', gaussian(O * I, seed), O, I);
  let s = seed >>> 0;
  for (let b = 0; b < bytes.length; b += 18) {
    for (let j = 2; j < 18; j++) bytes[b + j] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  }
  const w = arena.allocBytes(bytes.length)!;
  w.view.set(bytes);
  const x = gaussian(T * I, seed + 1);
  for (let t = 0; t < T; t++) {
    const row = x.subarray(t * I, (t + 1) * I);
    const size = 10 ** ((t % 7) - 3);
    for (let i = 0; i < I; i++) row[i] *= size;
    if (I >= 64 && t % 2 === 0) row.fill(0, 0, 32);
    if (I >= 64 && t % 3 === 0) row.fill(0, 32, 64).fill(-size, 40, 41);
  }
  const inp = arena.alloc(T * I)!;
  inp.view.set(x);
  const bias = withBias ? arena.alloc(O)! : null;
  bias?.view.set(gaussian(O, seed + 2));
  const out = arena.alloc(T * O)!;
  const run = (kernels: typeof plain) => {
    out.view.fill(NaN);
    if (!matmulQuantSimd(kernels, scratch, out, inp, w, 'q4_0', bias, T, I, O)) throw new Error('scratch did not fit');
    return new Uint32Array(out.view.slice().buffer);
  };
  return { plain: run(plain), relaxed: run(relaxed) };
}
