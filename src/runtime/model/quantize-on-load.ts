import type { FloatDType } from '../backend.ts';
import { decodeToF32 } from '../dtype.ts';
import { quantLayout, quantRowBytes, type QuantDType } from '../quant/quant-dtype.ts';
import { quantizeRow } from '../quant/quantize.ts';
import type { WeightPlan } from './tensor-names.ts';

/**
 * Quantize on load: a model published in F32, F16 or BF16 turned into Q8_0 or Q4_0 blocks as its
 * tensors stream in, so the backend holds (and a decode step reads) a quarter to an eighth of the
 * bytes. ggml's reference quantizers (../quant/quantize.ts): one pass over the values, no search.
 */

/** The types a model can be quantized to on load. */
export type QuantizeOnLoad = 'q8_0' | 'q4_0';

/** Rows quantized per step: bounds the float32 copy of a tensor to 256 rows (a 0.4-4 MB slab). */
const ROWS_PER_STEP = 256;

/**
 * The type `weight` is stored in when the model is quantized to `to`: every matrix whose rows are
 * whole blocks (llama.cpp quantizes the same ones), the token embedding and output head included.
 * Vectors (norms, biases) stay as they are, and so do GPT-2's learned positions, which are read
 * one row per token and added to the embedding: small, and llama.cpp keeps them too.
 */
export function quantizedDType(weight: WeightPlan, to: QuantizeOnLoad | undefined): QuantDType | null {
  if (to === undefined || weight.rows === 1 || weight.key === 'posEmb') return null;
  return weight.cols % quantLayout(to).blockElements === 0 ? to : null;
}

/**
 * `bytes`, whole rows (rows, cols) of little-endian `from` elements, as `to` blocks row after row.
 * Converted ROWS_PER_STEP rows at a time so a large tensor (a 150k-row embedding) never exists
 * as float32 all at once.
 */
export function quantizeRows(bytes: Uint8Array, from: FloatDType, rows: number, cols: number, to: QuantDType, what: string): Uint8Array {
  const rowBytes = quantRowBytes(to, cols, what);
  const fromBytes = from === 'f32' ? 4 : 2;
  const out = new Uint8Array(rows * rowBytes);
  const slab = new Float32Array(Math.min(rows, ROWS_PER_STEP) * cols); // (ROWS_PER_STEP, cols)
  for (let r0 = 0; r0 < rows; r0 += ROWS_PER_STEP) {
    const n = Math.min(ROWS_PER_STEP, rows - r0);
    decodeToF32(slab, 0, bytes.subarray(r0 * cols * fromBytes, (r0 + n) * cols * fromBytes), from, what);
    for (let r = 0; r < n; r++) quantizeRow(to, slab, r * cols, cols, out, (r0 + r) * rowBytes);
  }
  return out;
}
