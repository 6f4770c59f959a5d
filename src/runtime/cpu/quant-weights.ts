import { dequantizeRow } from '../quant/dequantize.ts';
import { quantRowBytes, quantWriteAt, type QuantDType } from '../quant/quant-dtype.ts';
import type { U8Slot } from './wasm-arena.ts';

/**
 * Block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) in the CPU backend: stored as ggml's blocks,
 * a row of `cols` elements a whole number of blocks. The SIMD matmul reads them in place
 * (quant-kernels.ts); this file holds the rest: storing the raw blocks, dequantizing single rows
 * for embed, and the TS matmul for engines without WebAssembly SIMD, which is also the reference
 * the kernels are tested against.
 */

/**
 * Copies `bytes` (whole blocks of `dtype`) into `slot`, the weight (rows, cols), starting at
 * element `offset`, which must start a block (see quantWriteAt).
 */
export function writeQuant(slot: U8Slot, offset: number, bytes: Uint8Array, dtype: QuantDType, rows: number, cols: number, what: string): void {
  const at = quantWriteAt(dtype, rows, cols, offset, bytes.length, what);
  new Uint8Array(slot.view.buffer, slot.view.byteOffset + at, bytes.length).set(bytes);
}

/** out[at ..] (C) = row `row` of the quantized (rows, C) matrix in `bytes`, as float32. */
export function quantRowInto(out: Float32Array, at: number, bytes: Uint8Array, dtype: QuantDType, row: number, C: number): void {
  const rowBytes = quantRowBytes(dtype, C, 'embed');
  dequantizeRow(dtype, bytes, row * rowBytes, out, at, C);
}

/**
 * matmulForward of ops.ts for a quantized w (O, I): out (T, O) = inp (T, I) @ w^T + bias (O),
 * summed in float64 over the dequantized weights. Each weight row is dequantized once into `row`
 * (I), then used by every token.
 */
export function matmulQuantForward(
  out: Float32Array,
  inp: Float32Array,
  w: Uint8Array,
  dtype: QuantDType,
  bias: Float32Array | null,
  T: number,
  I: number,
  O: number,
  row: Float32Array = new Float32Array(I), // (I) scratch
): void {
  const rowBytes = quantRowBytes(dtype, I, 'matmul');
  for (let o = 0; o < O; o++) {
    dequantizeRow(dtype, w, o * rowBytes, row, 0, I);
    const b = bias === null ? 0 : bias[o];
    for (let t = 0; t < T; t++) {
      const r = t * I;
      let a = 0;
      for (let i = 0; i < I; i++) a += row[i] * inp[r + i];
      out[t * O + o] = a + b;
    }
  }
}
