import { describe, expect, it } from 'vitest';
import { dequantize, dequantizeRow } from '../../../src/runtime/quant/dequantize.ts';

// Blocks packed by hand from ggml's layouts (ggml-common.h), with chosen scales and quants, so the
// expected values are known without running any dequantizer.
const HALF: Record<number, number> = { 0.5: 0x3800, 1: 0x3c00, 2: 0x4000, 0.25: 0x3400 };
const setHalf = (b: Uint8Array, at: number, x: number) => {
  b[at] = HALF[x]! & 0xff;
  b[at + 1] = HALF[x]! >> 8;
};

describe('reference dequantizers (ggml layouts)', () => {
  it('Q8_0: y = d * q for i8 q', () => {
    const b = new Uint8Array(34);
    setHalf(b, 0, 0.5);
    const q = Array.from({ length: 32 }, (_, j) => j * 8 - 128);
    q.forEach((v, j) => (b[2 + j] = v & 0xff));
    expect(Array.from(dequantize('q8_0', b, 32, 't'))).toEqual(q.map((v) => 0.5 * v));
  });

  it('Q4_0: low nibbles are elements 0..15, high nibbles 16..31, y = d * (q - 8)', () => {
    const b = new Uint8Array(18);
    setHalf(b, 0, 2);
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const want = [...Array.from({ length: 16 }, (_, j) => 2 * (j - 8)), ...Array.from({ length: 16 }, (_, j) => 2 * (15 - j - 8))];
    expect(Array.from(dequantize('q4_0', b, 32, 't'))).toEqual(want);
  });

  it('Q4_K: 6-bit scales and mins packed as get_scale_min_k4 reads them, y = d*sc*q - dmin*m', () => {
    const sc = [1, 2, 3, 4, 33, 50, 63, 17];
    const m = [0, 5, 10, 15, 20, 40, 60, 63];
    const b = new Uint8Array(144);
    setHalf(b, 0, 1);
    setHalf(b, 2, 0.5);
    const s = b.subarray(4, 16);
    for (let j = 0; j < 4; j++) {
      s[j] = (sc[j]! & 63) | ((sc[j + 4]! >> 4) << 6);
      s[j + 4] = (m[j]! & 63) | ((m[j + 4]! >> 4) << 6);
      s[j + 8] = (sc[j + 4]! & 15) | ((m[j + 4]! & 15) << 4);
    }
    const q = (e: number) => (e * 7 + 3) % 16;
    const want: number[] = [];
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) b[16 + 32 * c + l] = q(64 * c + l) | (q(64 * c + 32 + l) << 4);
      for (let half = 0; half < 2; half++) {
        for (let l = 0; l < 32; l++) want.push(sc[2 * c + half]! * q(64 * c + 32 * half + l) - 0.5 * m[2 * c + half]!);
      }
    }
    expect(Array.from(dequantize('q4_k', b, 256, 't'))).toEqual(want);
  });

  it('Q6_K: 4 low bits in ql, 2 high bits in qh, a signed scale per 16, y = d * sc * (q - 32)', () => {
    const b = new Uint8Array(210);
    setHalf(b, 208, 0.25);
    const scales = Array.from({ length: 16 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    scales.forEach((v, i) => (b[192 + i] = v & 0xff));
    const q = (e: number) => (e * 11 + 5) % 64;
    const want: number[] = [];
    for (let e = 0; e < 256; e++) {
      const n = e >> 7; // which half of 128
      const r = e & 127;
      const k = r >> 5; // which quarter of 32 within the half
      const l = r & 31;
      const ql = 64 * n + l + (k & 1 ? 32 : 0);
      b[ql] |= k < 2 ? q(e) & 15 : (q(e) & 15) << 4;
      b[128 + 32 * n + l] |= (q(e) >> 4) << (2 * k);
      want.push(0.25 * scales[8 * n + (l >> 4) + 2 * k]! * (q(e) - 32));
    }
    expect(Array.from(dequantize('q6_k', b, 256, 't'))).toEqual(want);
  });

  it('refuses a length that is not whole blocks, naming the tensor', () => {
    expect(() => dequantize('q8_0', new Uint8Array(34), 33, 'blk.0.attn_q.weight')).toThrow(/blk.0.attn_q.weight: 33 elements of q8_0/);
  });

  it('dequantizes a row from any byte offset into any float offset', () => {
    const one = [0x00, 0x3c]; // f16 1.0
    const two = [0x00, 0x40]; // f16 2.0
    const bytes = Uint8Array.from([9, 9, ...one, ...new Array(32).fill(3), ...two, ...new Array(32).fill(0xff)]);
    const out = new Float32Array(70);
    dequantizeRow('q8_0', bytes, 2, out, 5, 64);
    expect([...out.subarray(5, 37)]).toEqual(new Array(32).fill(3));
    expect([...out.subarray(37, 69)]).toEqual(new Array(32).fill(-2));
    expect([out[4], out[69]]).toEqual([0, 0]);
    expect(() => dequantizeRow('q4_0', new Uint8Array(18), 0, new Float32Array(64), 0, 64)).toThrow(/q4_0: 64 elements/);
  });
});
