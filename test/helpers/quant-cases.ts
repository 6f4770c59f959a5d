// Shared by the quantization tests (reference, CPU kernels, WebGPU kernels): seeded data.
import type { Backend } from '../../src/runtime/backend.ts';
import { matmulQuantForward } from '../../src/runtime/cpu/quant-weights.ts';
import { dequantizeMatrix } from '../../src/runtime/quant/dequantize.ts';
import type { QuantDType } from '../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../src/runtime/quant/quantize.ts';

/** n seeded N(0, 1) floats (Box-Muller over a 32-bit LCG), as float32. */
export function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 2 ** 32 - 1e-12;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** Elements per block of each quantized type. */
export const BLOCK: Readonly<Record<QuantDType, number>> = { q8_0: 32, q4_0: 32, q4_k: 256, q6_k: 256 };

/**
 * Shapes (T, I, O) every quantized matmul is checked on: K at the block limit (one block), odd
 * row counts that fill no workgroup evenly (1, 7, 33, 65, 257), odd T, and the bench widths.
 */
export function quantShapes(dtype: QuantDType): [number, number, number][] {
  const b = BLOCK[dtype];
  return [
    [1, b, 1],
    [1, b, 7],
    [3, 3 * b, 33],
    [5, b === 32 ? 288 : 768, 65],
    [1, b === 32 ? 288 : 768, 257],
  ];
}

/** A seeded quantized matmul: weights as blocks, inputs, bias, and the dequantize-then-f32 result. */
export interface QuantCase {
  readonly w: Uint8Array; // (O, I) as dtype blocks
  readonly x: Float32Array; // (T, I)
  readonly bias: Float32Array | null; // (O)
  readonly ref: Float32Array; // (T, O) = dequantize(w) x + bias, summed in float64
}

export function quantCase(dtype: QuantDType, T: number, I: number, O: number, seed: number, withBias: boolean): QuantCase {
  const w = quantizeMatrix(dtype, gaussian(O * I, seed), O, I);
  const x = gaussian(T * I, seed + 1);
  const bias = withBias ? gaussian(O, seed + 2) : null;
  const ref = new Float32Array(T * O);
  matmulQuantForward(ref, x, w, dtype, bias, T, I, O);
  return { w, x, bias, ref };
}

const f32Bytes = (xs: Float32Array): Uint8Array => new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength);

/** Runs the case's matmul on `backend` (weights written in two pieces, as a stream would) and reads (T, O). */
export async function runQuantMatmul(backend: Backend, dtype: QuantDType, c: QuantCase, T: number, I: number, O: number): Promise<Float32Array> {
  const w = backend.createWeight('w', O, I, dtype);
  const half = Math.floor(O / 2) * (c.w.length / O); // whole rows, so whole blocks
  backend.writeWeight(w, 0, c.w.subarray(0, half));
  backend.writeWeight(w, (half / (c.w.length / O)) * I, c.w.subarray(half));
  const values = backend.createWeight('x', T, I, 'f32');
  backend.writeWeight(values, 0, f32Bytes(c.x));
  const inp = backend.createActivation(T, I);
  backend.embed(inp, Int32Array.from({ length: T }, (_, t) => t), T, values, null, 0);
  let bias = null;
  if (c.bias !== null) {
    bias = backend.createWeight('bias', 1, O, 'f32');
    backend.writeWeight(bias, 0, f32Bytes(c.bias));
  }
  const out = backend.createActivation(T, O);
  backend.matmul(out, inp, w, bias, T);
  const into = new Float32Array(T * O);
  await backend.read(out, T, into);
  return into;
}

/** Sum over i of |w_i x_i| (+ |bias|) per output (T, O) of the dequantized weights: the scale a dot product's rounding goes with. */
export function magnitudes(dtype: QuantDType, w: Uint8Array, x: Float32Array, bias: Float32Array | null, T: number, I: number, O: number): Float32Array {
  const wq = dequantizeMatrix(dtype, w, O, I);
  const m = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < O; o++) {
      let s = bias === null ? 0 : Math.abs(bias[o]);
      for (let i = 0; i < I; i++) s += Math.abs(wq[o * I + i] * x[t * I + i]);
      m[t * O + o] = s;
    }
  }
  return m;
}
