import { describe, expect, it } from 'vitest';
import { bf16ToF32, decodeToF32, f16BitsToF32, f16ToF32 } from '../../../src/runtime/dtype.ts';
import {
  attentionForward,
  embedForward,
  geluForward,
  layernormForward,
  matmulForward,
  rmsnormForward,
  ropeForward,
  siluMulForward,
  softmaxInPlace,
} from '../../../src/runtime/cpu/ops.ts';
import { GptError } from '../../../src/errors.ts';

// Every expected number below was worked out by hand (the working is in the comments), not by
// running the code under test.

function expectClose(actual: Float32Array | number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})\n got [${Array.from(actual).join(', ')}]`);
    }
  }
}

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const LN3 = Math.log(3);
const LN2 = Math.log(2);

describe('embedForward', () => {
  it('gathers token rows and adds the position rows from pos0', () => {
    // tokEmb (V=3, C=2), posEmb (4, 2)
    const tok = f32([1, 2, 10, 20, 100, 200]);
    const pos = f32([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    const out = new Float32Array(4);
    embedForward(out, Int32Array.from([2, 0]), 2, 2, tok, null, 0);
    expectClose(out, [100, 200, 1, 2]);
    // ids [1, 1] at positions 2, 3: [10 + 0.5, 20 + 0.6], [10 + 0.7, 20 + 0.8]
    embedForward(out, Int32Array.from([1, 1]), 2, 2, tok, pos, 2);
    expectClose(out, [10.5, 20.6, 10.7, 20.8]);
  });
});

describe('layernormForward', () => {
  it('normalises [1, 2, 3, 4] with the biased variance, then applies weight and bias', () => {
    // mean 2.5; deviations -1.5 -0.5 0.5 1.5; squares sum to 5; biased var 5/4 = 1.25
    // x_hat = dev / sqrt(1.25) = dev * 0.894427 = -1.341641 -0.447214 0.447214 1.341641
    // weight [1, 2, 0.5, -1], bias [0, 1, -1, 0.5]:
    //   -1.341641, -0.894427 + 1 = 0.105573, 0.223607 - 1 = -0.776393, -1.341641 + 0.5 = -0.841641
    const out = new Float32Array(4);
    layernormForward(out, f32([1, 2, 3, 4]), f32([1, 2, 0.5, -1]), f32([0, 1, -1, 0.5]), 1, 4, 0);
    expectClose(out, [-1.341641, 0.105573, -0.776393, -0.841641]);
  });

  it('adds eps inside the square root, per row', () => {
    // row 0 [0, 0, 2, 2]: mean 1, var 1, eps 3 -> rstd 1/sqrt(4) = 0.5 -> [-0.5, -0.5, 0.5, 0.5]
    // row 1 [7, 7, 7, 7]: var 0 -> rstd 1/sqrt(3), deviations 0 -> exactly the bias
    const out = new Float32Array(8);
    layernormForward(out, f32([0, 0, 2, 2, 7, 7, 7, 7]), f32([1, 1, 1, 1]), f32([0, 0, 0, 1]), 2, 4, 3);
    expectClose(out, [-0.5, -0.5, 0.5, 1.5, 0, 0, 0, 1]);
  });

  it('works in place', () => {
    const x = f32([1, 2, 3, 4]);
    layernormForward(x, x, f32([1, 1, 1, 1]), f32([0, 0, 0, 0]), 1, 4, 0);
    expectClose(x, [-1.341641, -0.447214, 0.447214, 1.341641]);
  });
});

describe('rmsnormForward', () => {
  it('divides by the root mean square and applies the weight', () => {
    // [1, 2, 3, 4]: mean of squares (1 + 4 + 9 + 16) / 4 = 7.5, rms 2.738613
    // -> 0.365148 0.730297 1.095445 1.460593
    const out = new Float32Array(4);
    rmsnormForward(out, f32([1, 2, 3, 4]), f32([1, 1, 1, 1]), 1, 4, 0);
    expectClose(out, [0.365148, 0.730297, 1.095445, 1.460593]);
  });

  it('adds eps inside the square root, per row, with weight', () => {
    // C = 2, weight [2, -1]
    // row 0 [1, 7]: mean sq (1 + 49) / 2 = 25, eps 0 -> rms 5 -> [0.2, 1.4] * w = [0.4, -1.4]
    // row 1 [3, -3]: mean sq 9, with eps 7 -> sqrt(16) = 4 -> [0.75, -0.75] * w = [1.5, 0.75]
    const out = new Float32Array(4);
    rmsnormForward(out.subarray(0, 2), f32([1, 7]), f32([2, -1]), 1, 2, 0);
    rmsnormForward(out.subarray(2, 4), f32([3, -3]), f32([2, -1]), 1, 2, 7);
    expectClose(out, [0.4, -1.4, 1.5, 0.75]);
  });
});

describe('matmulForward', () => {
  it('computes inp @ w^T + bias with w stored (O, I)', () => {
    // w (O=2, I=3) = [[1, 2, 3], [4, 5, 6]], bias [0.5, -1]
    // row [1, 0, -1]: 1 - 3 + 0.5 = -1.5; 4 - 6 - 1 = -3
    // row [2, 1, 0]:  2 + 2 + 0.5 = 4.5;  8 + 5 - 1 = 12
    const out = new Float32Array(4);
    matmulForward(out, f32([1, 0, -1, 2, 1, 0]), f32([1, 2, 3, 4, 5, 6]), f32([0.5, -1]), 2, 3, 2);
    expectClose(out, [-1.5, -3, 4.5, 12]);
    // no bias
    matmulForward(out, f32([1, 0, -1, 2, 1, 0]), f32([1, 2, 3, 4, 5, 6]), null, 2, 3, 2);
    expectClose(out, [-2, -2, 4, 13]);
  });

  it('gives the same sums on the 4-row block path and the remainder path, for I not a multiple of 4', () => {
    // T = 6 (one block of 4 plus 2 remainder rows), I = 7, O = 3
    // inp[t][i] = t + 1; w[o][i] = o + 1 for i < 7; bias [0, 10, 20]
    // out[t][o] = 7 (t + 1)(o + 1) + bias[o]
    const T = 6;
    const I = 7;
    const O = 3;
    const inp = new Float32Array(T * I);
    for (let t = 0; t < T; t++) inp.fill(t + 1, t * I, (t + 1) * I);
    const w = new Float32Array(O * I);
    for (let o = 0; o < O; o++) w.fill(o + 1, o * I, (o + 1) * I);
    const out = new Float32Array(T * O);
    matmulForward(out, inp, w, f32([0, 10, 20]), T, I, O);
    const expected: number[] = [];
    for (let t = 0; t < T; t++) for (let o = 0; o < O; o++) expected.push(7 * (t + 1) * (o + 1) + [0, 10, 20][o]);
    expectClose(out, expected);
  });

  it('matches a naive triple loop on irregular values', () => {
    // a check of indexing (each row i, column o pairs the right elements), against the textbook loop
    const T = 5;
    const I = 9;
    const O = 4;
    const inp = Float32Array.from({ length: T * I }, (_, k) => ((k * 7) % 11) - 5);
    const w = Float32Array.from({ length: O * I }, (_, k) => ((k * 5) % 13) / 4 - 1.5);
    const bias = f32([1, -2, 0.25, 3]);
    const out = new Float32Array(T * O);
    matmulForward(out, inp, w, bias, T, I, O);
    const expected: number[] = [];
    for (let t = 0; t < T; t++) {
      for (let o = 0; o < O; o++) {
        let s = bias[o];
        for (let i = 0; i < I; i++) s += inp[t * I + i] * w[o * I + i];
        expected.push(s);
      }
    }
    expectClose(out, expected, 1e-4);
  });
});

describe('ropeForward', () => {
  // H = 2, Hkv = 1, D = 4: row = [q0 (4) | q1 (4) | k (4) | v (4)], pairs (0, 2) and (1, 3)
  // invFreq [pi/2, pi/4]: at pos 1 pair 0 turns by 90 degrees and pair 1 by 45 degrees
  const invFreq = f32([Math.PI / 2, Math.PI / 4]);
  const head = [1, 2, 3, 4];
  const row = [...head, ...head.map((x) => 10 * x), ...head.map((x) => -x), 5, 6, 7, 8];

  it('is the identity at position 0 and rotates pairs (i, i + D/2) at position 1', () => {
    const qkv = f32([...row, ...row]);
    ropeForward(qkv, 2, 0, 2, 1, 4, invFreq);
    // row 0, pos 0: unchanged
    expectClose(qkv.subarray(0, 16), row);
    // row 1, pos 1, head [x0, x1, x2, x3]:
    //   pair 0 (x0, x2) by 90 deg: x0' = x0 cos - x2 sin = -x2, x2' = x2 cos + x0 sin = x0
    //   pair 1 (x1, x3) by 45 deg: x1' = (x1 - x3) / sqrt2, x3' = (x3 + x1) / sqrt2
    // [1, 2, 3, 4] -> [-3, -1.414214, 1, 4.242641]; q1 is 10x that; k is -1x; v untouched
    const r = [-3, -1.414214, 1, 4.242641];
    expectClose(qkv.subarray(16, 32), [...r, ...r.map((x) => 10 * x), ...r.map((x) => -x), 5, 6, 7, 8], 1e-5);
  });

  it('counts positions from pos0', () => {
    // pos 2: pair 0 by 180 deg -> (-x0, -x2); pair 1 by 90 deg -> (x1, x3) -> (-x3, x1)
    // [1, 2, 3, 4] -> [-1, -4, -3, 2]
    const qkv = f32(row);
    ropeForward(qkv, 1, 2, 2, 1, 4, invFreq);
    const r = [-1, -4, -3, 2];
    expectClose(qkv, [...r, ...r.map((x) => 10 * x), ...r.map((x) => -x), 5, 6, 7, 8], 1e-5);
  });
});

describe('softmaxInPlace', () => {
  it('normalises exponentials', () => {
    // e^1, e^2, e^3 over their sum: divide by e^3 -> e^-2 = 0.135335, e^-1 = 0.367879, 1; sum 1.503215
    // -> 0.090031, 0.244728, 0.665241
    const x = f32([1, 2, 3]);
    softmaxInPlace(x, 3);
    expectClose(x, [0.090031, 0.244728, 0.665241]);
  });

  it('is stable for large inputs and touches only the first n entries', () => {
    // shifting by 1000 changes nothing; naive exp(1000) would be Infinity
    const x = f32([1001, 1002, 1003, 42]);
    softmaxInPlace(x, 3);
    expectClose(x, [0.090031, 0.244728, 0.665241, 42]);
    // [0, ln 3] -> weights 1 : 3
    const y = f32([0, LN3]);
    softmaxInPlace(y, 2);
    expectClose(y, [0.25, 0.75]);
  });
});

describe('attentionForward', () => {
  // D = 4 so the scale 1/sqrt(D) is exactly 1/2.
  const D = 4;

  it('is causal over 3 tokens and fills the KV cache of its layer', () => {
    // H = Hkv = 1: a row is [q (4) | k (4) | v (4)]
    //   t0: q anything,     k0 = 0,            v0 = [4, 0, 0, 8]
    //   t1: q = [2,0,0,0],  k1 = [ln3,0,0,0],  v1 = [0, 4, 0, 0]
    //   t2: q = [0,2,0,0],  k2 = [0,ln2,0,0],  v2 = [0, 0, 4, 0]
    const qkv = f32([
      [9, 9, 9, 9, 0, 0, 0, 0, 4, 0, 0, 8],
      [2, 0, 0, 0, LN3, 0, 0, 0, 0, 4, 0, 0],
      [0, 2, 0, 0, 0, LN2, 0, 0, 0, 0, 4, 0],
    ].flat());
    const L = 2;
    const S = 5;
    const kCache = new Float32Array(L * S * D);
    const vCache = new Float32Array(L * S * D);
    const scores = new Float32Array(S);
    const out = new Float32Array(3 * D);
    attentionForward(out, qkv, kCache, vCache, 1 * S * D, scores, 3, 0, 1, 1, D);
    // t0 sees only itself: v0
    // t1 scores (q.k / 2): 0, 2 ln3 / 2 = ln3 -> weights 1/4, 3/4 -> 0.25 v0 + 0.75 v1 = [1, 3, 0, 2]
    // t2 scores: 0, 0, 2 ln2 / 2 = ln2 -> weights 1/4, 1/4, 1/2 -> [1, 1, 2, 2]
    expectClose(out, [4, 0, 0, 8, 1, 3, 0, 2, 1, 1, 2, 2]);
    // layer 1 of the cache holds k and v at positions 0..2; layer 0 and position 3, 4 stay zero
    expectClose(kCache.subarray(S * D, S * D + 3 * D), [0, 0, 0, 0, LN3, 0, 0, 0, 0, LN2, 0, 0]);
    expectClose(vCache.subarray(S * D, S * D + 3 * D), [4, 0, 0, 8, 0, 4, 0, 0, 0, 0, 4, 0]);
    expect(kCache.subarray(0, S * D).every((x) => x === 0)).toBe(true);
    expect(vCache.subarray(S * D + 3 * D).every((x) => x === 0)).toBe(true);

    // one more token at pos0 = 3 reads positions 0..2 from the cache
    //   t3: q = [2,0,0,0], k3 = 0, v3 = [0, 0, 0, 6]
    //   scores 0, ln3, 0, 0 -> weights 1/6, 3/6, 1/6, 1/6
    //   -> ([4,0,0,8] + [0,12,0,0] + [0,0,4,0] + [0,0,0,6]) / 6 = [2/3, 2, 2/3, 7/3]
    const out3 = new Float32Array(D);
    attentionForward(out3, f32([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6]), kCache, vCache, S * D, scores, 1, 3, 1, 1, D);
    expectClose(out3, [2 / 3, 2, 2 / 3, 7 / 3]);
  });

  it('shares one kv head between two query heads (GQA, H = 2, Hkv = 1)', () => {
    // a row is [q0 (4) | q1 (4) | k (4) | v (4)]
    //   t0: k0 = 0,           v0 = [4, 0, 0, 0]
    //   t1: k1 = [ln3,0,0,0], v1 = [0, 4, 0, 0]; q0 = [2,0,0,0], q1 = [-2,0,0,0]
    const qkv = f32([
      [1, 1, 1, 1, 5, 5, 5, 5, 0, 0, 0, 0, 4, 0, 0, 0],
      [2, 0, 0, 0, -2, 0, 0, 0, LN3, 0, 0, 0, 0, 4, 0, 0],
    ].flat());
    const S = 3;
    const out = new Float32Array(2 * 2 * D);
    attentionForward(out, qkv, new Float32Array(S * D), new Float32Array(S * D), 0, new Float32Array(S), 2, 0, 2, 1, D);
    // t0: both heads see only v0
    // t1 head 0: scores 0, ln3 -> 1/4, 3/4 -> [1, 3, 0, 0]
    // t1 head 1: scores 0, -ln3 -> 1, 1/3 -> 3/4, 1/4 -> [3, 1, 0, 0]
    expectClose(out, [4, 0, 0, 0, 4, 0, 0, 0, 1, 3, 0, 0, 3, 1, 0, 0]);
  });

  it('maps query head h to kv head floor(h / (H / Hkv)) (H = 4, Hkv = 2)', () => {
    // one token: each head's output is its kv head's v. v of kv head 0 = 1s, of kv head 1 = 2s.
    // floor(h / 2) gives heads 0,1 -> 1s and 2,3 -> 2s (h % Hkv would give 1, 2, 1, 2)
    const qkv = f32([...new Array(16).fill(0.5), ...new Array(8).fill(0), 1, 1, 1, 1, 2, 2, 2, 2]);
    const S = 2;
    const out = new Float32Array(16);
    attentionForward(out, qkv, new Float32Array(S * 8), new Float32Array(S * 8), 0, new Float32Array(S), 1, 0, 4, 2, D);
    expectClose(out, [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
  });
});

describe('geluForward', () => {
  it('is the tanh approximation', () => {
    // gelu(x) = 0.5 x (1 + tanh(0.7978846 (x + 0.044715 x^3)))
    // x = 1: tanh(0.7978846 * 1.044715) = tanh(0.833563) = 0.682384 -> 0.841192
    // x = -1: odd argument -> 0.5 * -1 * (1 - 0.682384) = -0.158808
    // x = 2: tanh(0.7978846 * 2.35772) = tanh(1.881188) = 0.954598 -> 1.954598
    // x = -3: tanh(0.7978846 * -4.207305) = tanh(-3.356944) = -0.997575 -> -1.5 * 0.002425 = -0.003637
    const out = new Float32Array(5);
    geluForward(out, f32([1, -1, 0, 2, -3]), 5);
    expectClose(out, [0.841192, -0.158808, 0, 1.954598, -0.003637]);
  });
});

describe('siluMulForward', () => {
  it('multiplies silu(gate) by up, per row', () => {
    // silu(x) = x / (1 + e^-x): silu(0) = 0, silu(1) = 1 / 1.367879 = 0.731059,
    // silu(-1) = -1 / 3.718282 = -0.268941, silu(2) = 2 / 1.135335 = 1.761594
    // row 0: gate [0, 1, -1], up [5, 2, 3] -> [0, 1.462117, -0.806824]
    // row 1: gate [2, 0, 1], up [1, 1, -1] -> [1.761594, 0, -0.731059]
    const out = new Float32Array(6);
    siluMulForward(out, f32([0, 1, -1, 5, 2, 3, 2, 0, 1, 1, 1, -1]), 2, 3);
    expectClose(out, [0, 1.462117, -0.806824, 1.761594, 0, -0.731059]);
  });
});

describe('f16 and bf16 decoding', () => {
  // little-endian bytes of 16-bit patterns
  const bytesOf = (bits: number[]): Uint8Array => Uint8Array.from(bits.flatMap((b) => [b & 0xff, b >> 8]));

  it('decodes binary16 values', () => {
    // 0x3C00: exp 15, mant 0 -> 1.0
    // 0xC100: sign, exp 16, mant 0x100 = 256/1024 -> -(1.25 * 2) = -2.5
    // 0x7BFF: exp 30, mant 1023 -> (1 + 1023/1024) * 2^15 = 65504, the largest finite
    // 0x0001: subnormal 1 * 2^-24 = 5.9604645e-8; 0x03FF: 1023 * 2^-24 = 6.097555e-5
    // 0x7C00 / 0xFC00: +-Infinity; 0x8000: -0
    const bits = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x8000, 0x7e00];
    const expected = [1, -2.5, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, -0, NaN];
    const out = new Float32Array(bits.length);
    f16ToF32(out, 0, bytesOf(bits), bits.length);
    for (let i = 0; i < bits.length; i++) {
      expect(out[i]).toBe(Math.fround(expected[i]));
      expect(f16BitsToF32(bits[i])).toBe(expected[i]);
    }
  });

  it('decodes bfloat16 as the high half of a float32', () => {
    // 0x3F80 -> 0x3F800000 = 1.0; 0xC020 -> 0xC0200000 = -2.5
    // 0x477F -> 0x477F0000 = 1.9921875 * 2^15 = 65280 (65504 itself is not a bfloat16)
    // 0x0001 -> float32 subnormal 2^-149 * 2^16 = 2^-133
    // 0x7F80 / 0xFF80 -> +-Infinity; 0x8000 -> -0
    const bits = [0x3f80, 0xc020, 0x477f, 0x0001, 0x7f80, 0xff80, 0x8000];
    const expected = [1, -2.5, 65280, 2 ** -133, Infinity, -Infinity, -0];
    const out = new Float32Array(bits.length + 1);
    bf16ToF32(out, 1, bytesOf(bits), bits.length);
    expect(out[0]).toBe(0);
    for (let i = 0; i < bits.length; i++) expect(out[i + 1]).toBe(expected[i]);
  });

  it('reads chunks at odd byte offsets and rejects partial elements and overruns', () => {
    // a stream chunk need not be aligned: put f16 1.0 and -2.5 at byte offset 1
    const buf = new Uint8Array(5);
    buf.set([0x00, 0x3c, 0x00, 0xc1], 1);
    const out = new Float32Array(4);
    expect(decodeToF32(out, 2, buf.subarray(1), 'f16', 'w')).toBe(2);
    expectClose(out, [0, 0, 1, -2.5]);
    // f32 at an unaligned offset: 1.5 = 0x3FC00000
    const b32 = new Uint8Array(5);
    b32.set([0x00, 0x00, 0xc0, 0x3f], 1);
    decodeToF32(out, 0, b32.subarray(1), 'f32', 'w');
    expect(out[0]).toBe(1.5);

    const partial = (): number => decodeToF32(out, 0, new Uint8Array(3), 'f16', "tensor 'w'");
    expect(partial).toThrow(GptError);
    expect(partial).toThrow(/tensor 'w'.*3 bytes.*f16/);
    const overrun = (): number => decodeToF32(out, 3, new Uint8Array(4), 'f16', "tensor 'w'");
    expect(overrun).toThrow(/tensor 'w'.*2 elements at element 3.*4 elements/);
    try {
      overrun();
    } catch (e) {
      expect((e as GptError).code).toBe('bad-tensor-shape');
    }
  });
});
