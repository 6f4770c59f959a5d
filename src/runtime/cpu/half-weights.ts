import type { WeightDType } from '../backend.ts';
import { bf16ToF32, f16ToF32 } from '../dtype.ts';
import type { U16Slot } from './wasm-arena.ts';
import { matmulWidenedRows } from './ops.ts';

/**
 * 16-bit weights (bf16, f16) kept 16-bit in the CPU backend's WebAssembly memory. Real checkpoints
 * (SmolLM2, Qwen2.5, TinyLlama) are BF16: widening them to f32 at load doubles the memory (a 0.5B
 * model: 2 GB instead of 1 GB, half of wasm32's 4 GiB) and the bytes a decode step streams. The
 * matmul kernel ("matmul16" in kernels/matmul.wat) widens as it reads; this file holds the rest: storing the
 * raw elements, widening single rows for embed, and the TS matmul for the rare case where an
 * activation did not fit the arena.
 */

/** Bits of the element type of a 16-bit weight. */
export type HalfDType = Exclude<WeightDType, 'f32'>;

/**
 * Copies `bytes` (little-endian 16-bit elements, any byte offset) into `slot` from element
 * `offset` as they are. The Backend contract (checked-backend.ts) has checked that they are
 * whole elements that fit.
 */
export function writeHalf(slot: U16Slot, offset: number, bytes: Uint8Array): void {
  // wasm memory is little-endian like the file, so the bytes go in unchanged
  const view = slot.view;
  new Uint8Array(view.buffer, view.byteOffset + 2 * offset, bytes.length).set(bytes);
}

/** out[outOffset ..] (n) = the f32 values of elements start .. start + n - 1 of `bits`. */
export function widenHalf(out: Float32Array, outOffset: number, bits: Uint16Array, start: number, n: number, dtype: HalfDType): void {
  const bytes = new Uint8Array(bits.buffer, bits.byteOffset + 2 * start, 2 * n);
  if (dtype === 'f16') f16ToF32(out, outOffset, bytes, n);
  else bf16ToF32(out, outOffset, bytes, n);
}

/**
 * matmulForward of ops.ts for a 16-bit w (O, I): out (T, O) = inp (T, I) @ w^T + bias (O), summed
 * in float64. Each weight row is widened once into `row` (I), then used by every token. The TS
 * fallback for when an activation lies outside the kernels' memory (the arena filled up after
 * the weight was loaded).
 */
export function matmulHalfForward(
  out: Float32Array,
  inp: Float32Array,
  w: Uint16Array,
  dtype: HalfDType,
  bias: Float32Array | null,
  T: number,
  I: number,
  O: number,
  row: Float32Array = new Float32Array(I), // (I) scratch
): void {
  matmulWidenedRows(out, inp, bias, T, I, O, row, (o, r) => widenHalf(r, 0, w, o * I, I, dtype));
}
