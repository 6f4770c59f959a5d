import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../../../src/runtime/dtype.ts';
import { dequantizeMatrix } from '../../../src/runtime/quant/dequantize.ts';
import { QUANT_DTYPES, quantRowBytes } from '../../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { makeQxQuants, nearestInt } from '../../../src/runtime/quant/scale-search.ts';
import { gaussian } from '../../helpers/quant-cases.ts';

describe('f32ToF16Bits (GGML_FP32_TO_FP16)', () => {
  it('round-trips every finite binary16 value', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });

  it('rounds to nearest, ties to even, overflows to infinity, keeps subnormals exact', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie: down to even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: up to even
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(-1e9)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // half the smallest subnormal: tie to 0
    expect(f32ToF16Bits(2 ** -25 * 1.5)).toBe(1);
    expect(f32ToF16Bits(-(2 ** -24) * 3)).toBe(0x8003);
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });
});

describe('nearestInt (ggml nearest_int)', () => {
  it('rounds halves to even, like the float32 1.5 * 2^23 trick', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, 7.5000005].map((v) => nearestInt(v) + 0)).toEqual([0, 2, 2, 0, -2, -2, 2, 8]);
  });
});

describe('quantize: hand-worked blocks', () => {
  it('Q8_0: d = amax / 127, q = round(x / d) with halves away from zero', () => {
    const x = new Float32Array(32);
    x[0] = -127; // amax 127: d = 1 exactly
    x[1] = 2.5;
    x[2] = -2.5;
    x[3] = 0.49;
    x[4] = 126.5;
    const bytes = quantizeMatrix('q8_0', x, 1, 32);
    expect([...bytes.subarray(0, 7)]).toEqual([0x00, 0x3c, 0x81, 3, 0xfd, 0, 127]);
    expect(bytes.length).toBe(34);
  });

  it('Q4_0: d = (value of largest magnitude) / -8, q = trunc(x / d + 8.5) capped at 15', () => {
    const x = new Float32Array(32);
    x[0] = -8; // d = 1
    x[1] = 7.6; // 16.1 -> capped 15
    x[2] = 0.49; // 8.99 -> 8
    x[3] = 0.5; // 9
    x[16] = 7; // 15.5 -> 15, high nibble of byte 0
    x[17] = -7.6; // 0.9 -> 0
    const bytes = quantizeMatrix('q4_0', x, 1, 32);
    expect([...bytes.subarray(0, 6)]).toEqual([0x00, 0x3c, 0 | (15 << 4), 15 | (0 << 4), 8 | (8 << 4), 9 | (8 << 4)]);
    // the largest magnitude positive: d negative, so it maps to q = 0, i.e. -8 d
    const y = new Float32Array(32);
    y[5] = 8;
    const neg = quantizeMatrix('q4_0', y, 1, 32);
    expect([neg[0], neg[1]]).toEqual([0x00, 0xbc]); // d = -1
    expect(neg[2 + 5] & 0xf).toBe(0);
    expect(dequantizeMatrix('q4_0', neg, 1, 32)[5]).toBe(8);
  });

  it('Q4_K: a constant block takes the full 6-bit scale, zero mins, and q = 15 everywhere', () => {
    const bytes = quantizeMatrix('q4_k', new Float32Array(256).fill(1.5), 1, 256);
    const d = f16BitsToF32(bytes[0] | (bytes[1] << 8));
    expect(d).toBe(f16BitsToF32(f32ToF16Bits(Math.fround(Math.fround(1.5 / 15) / 63))));
    expect([bytes[2], bytes[3]]).toEqual([0, 0]); // dmin
    // sc = 63 for all 8 sub-blocks, m = 0: bytes 0-3 = 63 | (63 >> 4) << 6, 4-7 = 0, 8-11 = 63 & 15
    expect([...bytes.subarray(4, 16)]).toEqual([255, 255, 255, 255, 0, 0, 0, 0, 15, 15, 15, 15]);
    expect(bytes.subarray(16).every((b) => b === 0xff)).toBe(true);
  });

  it('Q6_K: sub-block scales are i8 against the largest, which maps to -128', () => {
    const x = new Float32Array(256);
    for (let e = 0; e < 256; e++) x[e] = ((e % 16) - 8) * (1 + Math.floor(e / 16)); // sub-block s spans -8 (s+1) .. 7 (s+1)
    const bytes = quantizeMatrix('q6_k', x, 1, 256);
    expect(bytes.length).toBe(210);
    const scales = [...bytes.subarray(192, 208)].map((b) => (b << 24) >> 24);
    expect(scales[15]).toBe(-128);
    // sub-block scale s from make_qx_quants is proportional to s + 1, so the i8 scales are too
    for (let s = 0; s < 16; s++) expect(Math.abs(scales[s] - (-128 * (s + 1)) / 16)).toBeLessThanOrEqual(1);
    const back = dequantizeMatrix('q6_k', bytes, 1, 256);
    for (let e = 0; e < 256; e++) expect(Math.abs(back[e] - x[e])).toBeLessThan(0.05 * (1 + Math.floor(e / 16)));
  });

  it('make_qx_quants picks the candidate scale with the least x^2-weighted error', () => {
    const x = Float32Array.from([1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16]);
    const L = new Uint8Array(16);
    const scale = makeQxQuants(16, 32, x, 0, L, 0);
    // an exact fit exists: scale -0.5 with L - 32 = x / scale
    expect(scale).toBe(0.5);
    for (let i = 0; i < 16; i++) expect((L[i] - 32) * scale).toBeCloseTo(x[i], 6);
  });

  it('all-zero blocks: zero bytes, except q4_0 which stores d = -0 and q = 8 as ggml does', () => {
    for (const t of QUANT_DTYPES) {
      const n = t === 'q4_k' || t === 'q6_k' ? 256 : 32;
      const bytes = quantizeMatrix(t, new Float32Array(n), 1, n);
      if (t === 'q4_0') expect([...bytes]).toEqual([0x00, 0x80, ...new Array(16).fill(0x88)]);
      else expect(bytes.every((b) => b === 0)).toBe(true);
      expect(dequantizeMatrix(t, bytes, 1, n).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('quantize: round trips on Gaussian weights', () => {
  // RMS error / RMS value over 64 rows of 512 N(0, 1) values, measured with this quantizer:
  // q8_0 0.0054, q6_k 0.0178, q4_k 0.0714, q4_0 0.0861. What uniform rounding error predicts: a
  // step d over sqrt(12), d = amax / 127 for q8_0 (amax ~2.2 over 32 normals: 0.0050), amax / 32
  // over 16 for q6_k (0.017), range / 15 for q4_k (0.079, less after the scale search), amax / 8
  // for q4_0 (0.079). Bounds are the measurements plus ~10%.
  const BOUNDS = { q8_0: 0.0059, q6_k: 0.0196, q4_k: 0.079, q4_0: 0.095 } as const;
  const rows = 64;
  const cols = 512;
  const x = gaussian(rows * cols, 7);

  for (const t of QUANT_DTYPES) {
    it(`${t}: relative RMS error under ${BOUNDS[t]}, and every row a whole number of blocks`, () => {
      const bytes = quantizeMatrix(t, x, rows, cols);
      expect(bytes.length).toBe(rows * quantRowBytes(t, cols, t));
      const back = dequantizeMatrix(t, bytes, rows, cols);
      let err = 0;
      let sum = 0;
      for (let i = 0; i < x.length; i++) {
        err += (back[i] - x[i]) ** 2;
        sum += x[i] ** 2;
      }
      expect(Math.sqrt(err / sum)).toBeLessThan(BOUNDS[t]);
    });
  }

  it('q8_0 and q4_0: every element within half a step (a whole step at q4_0 clamped top)', () => {
    for (const t of ['q8_0', 'q4_0'] as const) {
      const bytes = quantizeMatrix(t, x, rows, cols);
      const back = dequantizeMatrix(t, bytes, rows, cols);
      const blockBytes = t === 'q8_0' ? 34 : 18;
      for (let b = 0; b < x.length / 32; b++) {
        const d = Math.abs(f16BitsToF32(bytes[b * blockBytes] | (bytes[b * blockBytes + 1] << 8)));
        for (let j = 0; j < 32; j++) {
          const e = Math.abs(back[32 * b + j] - x[32 * b + j]);
          // 0.5 d rounding, plus the f16 rounding of d (2^-11 relative) times |q| <= 127
          expect(e).toBeLessThanOrEqual(t === 'q8_0' ? d * (0.5 + 127 * 2 ** -11) : d * (1 + 8 * 2 ** -11));
        }
      }
    }
  });

  it('q8_0 and q4_0 are idempotent: quantizing the dequantized weights gives the same bytes', () => {
    for (const t of ['q8_0', 'q4_0'] as const) {
      const bytes = quantizeMatrix(t, x, rows, cols);
      expect(quantizeMatrix(t, dequantizeMatrix(t, bytes, rows, cols), rows, cols)).toEqual(bytes);
    }
  });

  it('refuses rows that are not a whole number of blocks, naming the matrix and the type', () => {
    expect(() => quantizeMatrix('q4_k', new Float32Array(288), 1, 288, 'layers.0.wqkv')).toThrow(/layers\.0\.wqkv.*288.*q4_k.*256/);
  });
});
