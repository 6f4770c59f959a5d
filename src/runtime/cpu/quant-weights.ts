import { dequantizeRow } from '../quant/dequantize.ts';
import { quantRowBytes, quantWriteAt, type QuantDType } from '../quant/quant-dtype.ts';
import type { U8Slot } from './wasm-arena.ts';
import { matmulWidenedRows } from './ops.ts';

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
  matmulWidenedRows(out, inp, bias, T, I, O, row, (o, r) => dequantizeRow(dtype, w, o * rowBytes, r, 0, I));
}
