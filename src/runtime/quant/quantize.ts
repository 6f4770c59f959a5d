import { GptError } from '../../errors.ts';
import { f16BitsToF32, f32ToF16Bits } from '../dtype.ts';
import { scaleMinK4 } from './dequantize.ts';
import { quantLayout, quantRowBytes, type QuantDType } from './quant-dtype.ts';
import { GROUP_MAX_EPS, makeQkx2Quants, makeQxQuants, nearestInt, TENTH } from './scale-search.ts';

/**
 * Float32 to ggml's block-quantized types, following ggml-quants.c's reference quantizers
 * (quantize_row_q8_0_ref, quantize_row_q4_0_ref, quantize_row_q4_K_ref, quantize_row_q6_K_ref):
 * the same choice of scales, the same rounding, the same byte layout, so a file we write reads
 * back in llama.cpp as it would have written it. Arithmetic is float32 like ggml's (Math.fround
 * after each step). Quantize on load uses Q8_0 and Q4_0 (one pass, no search: fast); the k-quants
 * search scales per sub-block and are ~50x slower, for writing test files.
 */

const fr = Math.fround;

/**
 * Quantizes `n` floats of `x` from `x0` (n a whole number of blocks) into `out` from byte `o0`.
 * Returns the bytes written.
 */
export function quantizeRow(dtype: QuantDType, x: Float32Array, x0: number, n: number, out: Uint8Array, o0: number): number {
  const { blockElements, blockBytes } = quantLayout(dtype);
  const blocks = n / blockElements;
  if (!Number.isInteger(blocks) || x0 + n > x.length || o0 + blocks * blockBytes > out.length) {
    throw new GptError('bad-argument', `quantizeRow ${dtype}: ${n} floats at ${x0} of ${x.length} into byte ${o0} of ${out.length} is not a whole number of blocks that fits.`);
  }
  const block = BLOCK_QUANTIZERS[dtype];
  for (let b = 0; b < blocks; b++) block(x, x0 + b * blockElements, out, o0 + b * blockBytes);
  return blocks * blockBytes;
}

/**
 * A (rows, cols) row-major float32 matrix as `dtype` blocks, row after row. `what` names the
 * matrix in the error when `cols` is not a whole number of blocks.
 */
export function quantizeMatrix(dtype: QuantDType, x: Float32Array, rows: number, cols: number, what = 'quantizeMatrix'): Uint8Array {
  const rowBytes = quantRowBytes(dtype, cols, what);
  if (x.length < rows * cols) throw new GptError('bad-argument', `${what}: ${x.length} floats, fewer than ${rows} x ${cols}.`);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) quantizeRow(dtype, x, r * cols, cols, out, r * rowBytes);
  return out;
}

type BlockQuantizer = (x: Float32Array, x0: number, out: Uint8Array, o0: number) => void;

// ggml's roundf: halves away from zero (Math.round takes halves up, so mirror the negatives)
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

function putF16(out: Uint8Array, o: number, bits: number): void {
  out[o] = bits & 0xff;
  out[o + 1] = bits >>> 8;
}

/** Q8_0: d = amax / 127, q = round(x / d) in -127 .. 127. Bytes: f16 d, 32 x i8. */
function quantizeQ8_0(x: Float32Array, x0: number, out: Uint8Array, o0: number): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[x0 + j]));
  const d = fr(amax / 127);
  const id = d !== 0 ? fr(1 / d) : 0;
  putF16(out, o0, f32ToF16Bits(d));
  for (let j = 0; j < 32; j++) out[o0 + 2 + j] = roundAway(fr(x[x0 + j] * id)) & 0xff;
}

/**
 * Q4_0: d = m / -8 for m the value of largest magnitude (so it maps to -8 exactly and the other
 * side reaches +7), q = x / d + 8 truncated, at most 15. Bytes: f16 d, then 16 bytes whose low
 * nibbles are elements 0..15 and high nibbles 16..31.
 */
function quantizeQ4_0(x: Float32Array, x0: number, out: Uint8Array, o0: number): void {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const v = x[x0 + j];
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  const d = fr(max / -8);
  const id = d !== 0 ? fr(1 / d) : 0;
  putF16(out, o0, f32ToF16Bits(d));
  // (int8_t)(v + 8.5f) truncates toward zero; v + 8.5 lies in 0.5 .. 16.5
  const q = (v: number) => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)));
  for (let j = 0; j < 16; j++) out[o0 + 2 + j] = q(x[x0 + j]) | (q(x[x0 + 16 + j]) << 4);
}

// scratch of the k-quant block quantizers (one block at a time, never re-entered)
const L = new Uint8Array(256);
const Laux = new Uint8Array(32);
const weights = new Float32Array(32);
const subScales = new Float32Array(16);
const subMins = new Float32Array(8);
const minOut = new Float32Array(1);

/**
 * Q4_K: 8 sub-blocks of 32, each x = d * sc * q - dmin * m with q in 0..15 and 6-bit sc, m;
 * sub-block scale and min from make_qkx2_quants weighted by rms(sub-block) + |x|. Bytes: f16 d,
 * f16 dmin, 12 bytes of packed sc/m (see scaleMinK4 in dequantize.ts), 128 bytes of q where each
 * 32-byte run holds sub-block 2c in its low nibbles and 2c + 1 in its high nibbles.
 */
function quantizeQ4K(x: Float32Array, x0: number, out: Uint8Array, o0: number): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const s0 = x0 + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[s0 + l] * x[s0 + l]));
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fr(avX + Math.abs(x[s0 + l]));
    subScales[j] = makeQkx2Quants(32, 15, x, s0, weights, L, 32 * j, minOut, Laux, -1, TENTH, 20, false);
    subMins[j] = minOut[0];
    if (subScales[j] > maxScale) maxScale = subScales[j];
    if (subMins[j] > maxMin) maxMin = subMins[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const sc = o0 + 4; // the 12 scale bytes
  out.fill(0, sc, sc + 12);
  for (let j = 0; j < 8; j++) {
    // uint8_t from an int: wraps, then capped at 63
    const ls = Math.min(63, nearestInt(fr(invScale * subScales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * subMins[j])) & 0xff);
    if (j < 4) {
      out[sc + j] = ls;
      out[sc + j + 4] = lm;
    } else {
      out[sc + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      out[sc + j - 4] |= (ls >> 4) << 6;
      out[sc + j] |= (lm >> 4) << 6;
    }
  }
  const dBits = f32ToF16Bits(fr(maxScale / 63));
  const dminBits = f32ToF16Bits(fr(maxMin / 63));
  putF16(out, o0, dBits);
  putF16(out, o0 + 2, dminBits);
  // requantize against the scales as stored (6-bit sc and m, f16 d and dmin)
  const d = f16BitsToF32(dBits);
  const dmin = f16BitsToF32(dminBits);
  for (let j = 0; j < 8; j++) {
    const [s, m] = scaleMinK4(j, out, sc);
    const dj = fr(d * s);
    if (dj === 0) continue;
    const mj = fr(dmin * m);
    for (let i = 0; i < 32; i++) L[32 * j + i] = Math.max(0, Math.min(15, nearestInt(fr(fr(x[x0 + 32 * j + i] + mj) / dj))));
  }
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) out[o0 + 16 + 32 * c + l] = L[64 * c + l] | (L[64 * c + 32 + l] << 4);
  }
}

/**
 * Q6_K: 16 sub-blocks of 16, each x = d * sc * (q - 32) with q in 0..63 and i8 sc; sub-block
 * scales from make_qx_quants, then quantized to 8 bits against the largest. Bytes: 128 of low
 * nibbles (ql), 64 of high 2-bit pairs (qh), 16 x i8 sc, f16 d; for each half of 128 elements, ql
 * bytes 0..31 hold elements 0..31 (low nibble) and 64..95 (high), bytes 32..63 hold 32..63 and
 * 96..127, and qh byte l holds the top 2 bits of elements l, l+32, l+64, l+96.
 */
function quantizeQ6K(x: Float32Array, x0: number, out: Uint8Array, o0: number): void {
  let maxScale = 0;
  let maxAbsScale = 0;
  for (let ib = 0; ib < 16; ib++) {
    const s = makeQxQuants(16, 32, x, x0 + 16 * ib, L, 16 * ib);
    subScales[ib] = s;
    if (Math.abs(s) > maxAbsScale) {
      maxAbsScale = Math.abs(s);
      maxScale = s;
    }
  }
  out.fill(0, o0, o0 + 210);
  if (maxAbsScale < GROUP_MAX_EPS) return; // all zero: d = 0 and zero quants
  const iscale = fr(-128 / maxScale);
  const dBits = f32ToF16Bits(fr(1 / iscale));
  putF16(out, o0 + 208, dBits);
  const d = f16BitsToF32(dBits);
  for (let ib = 0; ib < 16; ib++) {
    const s = Math.min(127, nearestInt(fr(iscale * subScales[ib])));
    out[o0 + 192 + ib] = s & 0xff;
    const dj = fr(d * s);
    if (dj === 0) continue;
    for (let i = 0; i < 16; i++) L[16 * ib + i] = Math.max(-32, Math.min(31, nearestInt(fr(x[x0 + 16 * ib + i] / dj)))) + 32;
  }
  for (let half = 0; half < 2; half++) {
    const ql = o0 + 64 * half;
    const qh = o0 + 128 + 32 * half;
    const e = 128 * half;
    for (let l = 0; l < 32; l++) {
      const [q1, q2, q3, q4] = [L[e + l], L[e + l + 32], L[e + l + 64], L[e + l + 96]];
      out[ql + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
      out[ql + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
      out[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
}

const BLOCK_QUANTIZERS: Readonly<Record<QuantDType, BlockQuantizer>> = {
  q8_0: quantizeQ8_0,
  q4_0: quantizeQ4_0,
  q4_k: quantizeQ4K,
  q6_k: quantizeQ6K,
};
