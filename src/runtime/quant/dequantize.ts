import { GptError } from '../../errors.ts';
import { LAYOUT_BY_NAME, type GgmlTypeName } from '../../formats/ggml-types.ts';
import { f16BitsToF32 } from '../dtype.ts';
import type { QuantDType } from './quant-dtype.ts';

/**
 * The reference dequantizers: blocks of llama.cpp's quantized types back to float32, exactly as
 * ggml's `dequantize_row_*` in ggml/src/ggml-quants.c compute them (float32 arithmetic step by
 * step, `Math.fround` where C rounds to float). Block layouts (ggml/src/ggml-common.h):
 *
 * - Q8_0 (34 bytes / 32): f16 d, i8 qs[32];                    y[j] = d * qs[j]
 * - Q4_0 (18 bytes / 32): f16 d, u8 qs[16];                    y[j] = d * ((qs[j] & 15) - 8),
 *                                                               y[j + 16] = d * ((qs[j] >> 4) - 8)
 * - Q4_K (144 bytes / 256): f16 d, f16 dmin, u8 scales[12] (8 six-bit scales and 8 six-bit mins,
 *   packed by get_scale_min_k4), u8 qs[128]; per 64 elements two sub-blocks of 32 share a byte of
 *   qs: low nibbles y = d*sc[2i] * q - dmin*m[2i], high nibbles with sc[2i+1], m[2i+1]
 * - Q6_K (210 bytes / 256): u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), i8 scales[16],
 *   f16 d; y = d * scales[k] * (q - 32), 16 elements per scale
 *
 * One place for these, shared by the GGUF loader, the quantizer (../quant/quantize.ts), the
 * embedding lookup of a quantized table (one row at a time) and the quantized kernels' tests.
 */

/** A dequantizer: `nBlocks` blocks of `src` (from byte 0) into `out[outOffset ..]`. */
type BlockDecoder = (out: Float32Array, outOffset: number, src: Uint8Array, nBlocks: number) => void;

const fround = Math.fround;
const half = (src: Uint8Array, at: number): number => f16BitsToF32(src[at]! | (src[at + 1]! << 8));

/** Q8_0: y = d * q. */
export const dequantizeQ8_0: BlockDecoder = (out, o, src, nBlocks) => {
  for (let b = 0; b < nBlocks; b++) {
    const base = 34 * b;
    const d = half(src, base);
    for (let j = 0; j < 32; j++) out[o++] = fround(((src[base + 2 + j]! << 24) >> 24) * d);
  }
};

/** Q4_0: y = d * (q - 8), low nibbles first (elements 0..15), then high nibbles (16..31). */
export const dequantizeQ4_0: BlockDecoder = (out, o, src, nBlocks) => {
  for (let b = 0; b < nBlocks; b++) {
    const base = 18 * b;
    const d = half(src, base);
    for (let j = 0; j < 16; j++) {
      const q = src[base + 2 + j]!;
      out[o + j] = fround(((q & 0x0f) - 8) * d);
      out[o + j + 16] = fround(((q >> 4) - 8) * d);
    }
    o += 32;
  }
};

/** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at `src[at ..]`. */
export function scaleMinK4(j: number, src: Uint8Array, at: number): [number, number] {
  if (j < 4) return [src[at + j]! & 63, src[at + j + 4]! & 63];
  return [(src[at + j + 4]! & 0x0f) | ((src[at + j - 4]! >> 6) << 4), (src[at + j + 4]! >> 4) | ((src[at + j]! >> 6) << 4)];
}

/** Q4_K: y = d * sc * q - dmin * m per 32-element sub-block. */
export const dequantizeQ4_K: BlockDecoder = (out, o, src, nBlocks) => {
  for (let b = 0; b < nBlocks; b++) {
    const base = 144 * b;
    const d = half(src, base);
    const dmin = half(src, base + 2);
    const scales = base + 4;
    let q = base + 16;
    for (let is = 0; is < 8; is += 2) {
      const [sc1, m1] = scaleMinK4(is, src, scales);
      const [sc2, m2] = scaleMinK4(is + 1, src, scales);
      const d1 = fround(d * sc1);
      const min1 = fround(dmin * m1);
      const d2 = fround(d * sc2);
      const min2 = fround(dmin * m2);
      for (let l = 0; l < 32; l++) out[o + l] = fround(fround(d1 * (src[q + l]! & 0x0f)) - min1);
      for (let l = 0; l < 32; l++) out[o + 32 + l] = fround(fround(d2 * (src[q + l]! >> 4)) - min2);
      o += 64;
      q += 32;
    }
  }
};

/** Q6_K: y = d * scale * (q - 32), q six bits from ql (low 4) and qh (high 2). */
export const dequantizeQ6_K: BlockDecoder = (out, o, src, nBlocks) => {
  for (let b = 0; b < nBlocks; b++) {
    const base = 210 * b;
    const d = half(src, base + 208);
    let ql = base;
    let qh = base + 128;
    let sc = base + 192;
    for (let n = 0; n < 256; n += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l]!;
        const q1 = ((src[ql + l]! & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32]! & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
        const s = (i: number) => (src[sc + i]! << 24) >> 24;
        out[o + l] = fround(fround(d * s(is)) * q1);
        out[o + l + 32] = fround(fround(d * s(is + 2)) * q2);
        out[o + l + 64] = fround(fround(d * s(is + 4)) * q3);
        out[o + l + 96] = fround(fround(d * s(is + 6)) * q4);
      }
      o += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
};

const DECODERS: Readonly<Partial<Record<GgmlTypeName, BlockDecoder>>> = {
  q8_0: dequantizeQ8_0,
  q4_0: dequantizeQ4_0,
  q4_k: dequantizeQ4_K,
  q6_k: dequantizeQ6_K,
};

/**
 * Dequantizes `n` elements (a whole number of blocks) of quantized `type` from `src` into a new
 * Float32Array. `what` names the tensor for error messages.
 */
export function dequantize(type: GgmlTypeName, src: Uint8Array, n: number, what: string): Float32Array {
  const decode = DECODERS[type];
  const layout = LAYOUT_BY_NAME[type];
  if (!decode) throw new GptError('unsupported-dtype', `${what}: ${type} is not a quantized type we can dequantize (q8_0, q4_0, q4_k, q6_k).`);
  const nBlocks = n / layout.blockElements;
  if (!Number.isInteger(nBlocks) || src.byteLength < nBlocks * layout.blockBytes) {
    throw new GptError(
      'bad-tensor-shape',
      `${what}: ${n} elements of ${type} need ${Math.ceil(nBlocks) * layout.blockBytes} bytes in whole ${layout.blockElements}-element blocks, got ${src.byteLength}.`,
    );
  }
  const out = new Float32Array(n);
  decode(out, 0, src, nBlocks);
  return out;
}

/**
 * Dequantizes `n` elements (a whole number of blocks) of `type` from `src[byteOffset ..]` into
 * `out[outOffset ..]`: one row of a quantized matrix, where no new array is wanted.
 */
export function dequantizeRow(type: QuantDType, src: Uint8Array, byteOffset: number, out: Float32Array, outOffset: number, n: number): void {
  const layout = LAYOUT_BY_NAME[type];
  const nBlocks = n / layout.blockElements;
  if (!Number.isInteger(nBlocks) || byteOffset + nBlocks * layout.blockBytes > src.byteLength || outOffset + n > out.length) {
    throw new GptError('bad-argument', `dequantizeRow ${type}: ${n} elements from byte ${byteOffset} of ${src.byteLength} into ${outOffset} of ${out.length} is not a whole number of blocks that fits.`);
  }
  DECODERS[type]!(out, outOffset, src.subarray(byteOffset), nBlocks);
}

/** A (rows, cols) matrix of `type` blocks, row after row, as float32 (rows * cols). */
export function dequantizeMatrix(type: QuantDType, src: Uint8Array, rows: number, cols: number): Float32Array {
  return dequantize(type, src, rows * cols, 'dequantizeMatrix');
}
