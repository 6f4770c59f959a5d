import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/runtime/model/hf-config.ts';
import type { Activation, Backend, Weight, WeightDType } from '../../../src/runtime/backend.ts';
import { CpuBackend, type CpuBackendOptions } from '../../../src/runtime/cpu/cpu-backend.ts';
import { checkedBackend } from '../../../src/runtime/checked-backend.ts';
import { type CpuActivation, type CpuWeight } from '../../../src/runtime/cpu/cpu-tensors.ts';
import { U16Slot } from '../../../src/runtime/cpu/wasm-arena.ts';
import { f16BitsToF32 } from '../../../src/runtime/dtype.ts';
import { GptError } from '../../../src/errors.ts';
import { GptModel } from '../../../src/runtime/model/gpt-model.ts';
import { loadWeights } from '../../../src/runtime/model/load-weights.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { seededIds } from '../../helpers/parity-cases.ts';

// 16-bit weights kept 16-bit on the SIMD CPU backend (matmul16 in kernels/matmul.wat,
// half-weights.ts). The reference for a 16-bit weight is the f32 widening of the same bits:
// through the f32 SIMD kernel the results must be the same bits (same f32 arithmetic, same order),
// through the TS path (float64 sums) within 1e-5 relative.

type Half = Exclude<WeightDType, 'f32'>;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** The f32 value of a 16-bit pattern. */
function widen(bits: number, dtype: Half): number {
  if (dtype === 'f16') return f16BitsToF32(bits);
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
}

/** Random finite 16-bit patterns of weights in about -1 .. 1 (bf16: the high half of an f32). */
function randomBits(n: number, dtype: Half, next: () => number): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from({ length: n }, () => {
    f[0] = next();
    if (dtype === 'bf16') return u[0] >>> 16;
    // f16 by value: sign, then a magnitude < 1 as exponent 0..14 with a random mantissa
    const mag = Math.floor(Math.abs(next()) * 0x3bff);
    return (f[0] < 0 ? 0x8000 : 0) | mag;
  });
}

const bytesOf = (a: Uint16Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function weight(b: Backend, name: string, rows: number, cols: number, dtype: WeightDType, data: Uint16Array | Float32Array): Weight {
  const w = b.createWeight(name, rows, cols, dtype);
  b.writeWeight(w, 0, bytesOf(data));
  return w;
}

// an activation holding `values`: embed of an identity table (f32, so exact)
function activation(b: Backend, rows: number, cols: number, values: Float32Array): Activation {
  const a = b.createActivation(rows, cols);
  b.embed(a, Int32Array.from({ length: rows }, (_, i) => i), rows, weight(b, 'values', rows, cols, 'f32', values), null, 0);
  return a;
}

/** out (T, O) of inp (T, I) @ w^T + bias on a fresh backend, w given as `dtype` data. */
async function matmulOn(opts: CpuBackendOptions, dtype: WeightDType, w: Uint16Array | Float32Array, bias: Float32Array | null, inp: Float32Array, T: number, I: number, O: number) {
  const b = new CpuBackend(opts);
  const out = b.createActivation(T, O);
  const cw = weight(b, 'w', O, I, dtype, w) as CpuWeight;
  b.matmul(out, activation(b, T, I, inp), cw, bias === null ? null : weight(b, 'bias', 1, O, 'f32', bias), T);
  const into = new Float32Array(T * O);
  await b.read(out, T, into);
  const packed = cw.slot instanceof U16Slot;
  b.destroy();
  return { out: into, packed };
}

describe.each(['bf16', 'f16'] as const)('16-bit weights on the SIMD CPU backend (%s)', (dtype) => {
  it('matmul gives the bits of the f32 kernel on the widened weights, and the TS path within 1e-5, for ragged shapes', async () => {
    const next = rng(dtype === 'f16' ? 7 : 8);
    let cases = 0;
    for (const T of [1, 2, 3, 4, 5, 7, 8, 11]) {
      for (const I of [1, 3, 4, 5, 8, 13, 16, 17, 33, 70]) {
        for (const O of [1, 2, 3, 5]) {
          const withBias = (T + I + O) % 2 === 0;
          const bits = randomBits(O * I, dtype, next);
          const wide = Float32Array.from(bits, (h) => widen(h, dtype));
          const inp = Float32Array.from({ length: T * I }, next);
          const bias = withBias ? Float32Array.from({ length: O }, next) : null;
          const half = await matmulOn({}, dtype, bits, bias, inp, T, I, O);
          expect(half.packed).toBe(O > 1); // matrices stay 16-bit; a (1, I) weight is a vector, kept f32
          const f32 = await matmulOn({}, 'f32', wide, bias, inp, T, I, O);
          const where = `T ${T} I ${I} O ${O} bias ${withBias}`;
          for (let k = 0; k < T * O; k++) {
            if (!Object.is(half.out[k], f32.out[k])) throw new Error(`${where}: out[${k}] = ${half.out[k]}, f32 kernel ${f32.out[k]}`);
          }
          const ts = await matmulOn({ simd: false }, dtype, bits, bias, inp, T, I, O);
          for (let t = 0; t < T; t++) {
            for (let o = 0; o < O; o++) {
              let scale = bias === null ? 0 : Math.abs(bias[o]);
              for (let i = 0; i < I; i++) scale += Math.abs(wide[o * I + i] * inp[t * I + i]);
              const k = t * O + o;
              if (!(Math.abs(half.out[k] - ts.out[k]) <= 1e-5 * scale + 1e-30)) throw new Error(`${where}: out[${k}] = ${half.out[k]}, TS ${ts.out[k]}`);
            }
          }
          cases++;
        }
      }
    }
    expect(cases).toBe(8 * 10 * 4);
  });

  it('widens every kind of value exactly: signed zeros, subnormals, the largest, inf and NaN (f16), in every loop', async () => {
    // w row o holds one value at column (5 o) mod I, zeros elsewhere; inp rows are all ones, so
    // out[t, o] is that value (inf + 0 = inf, NaN stays NaN). I = 21 puts the values in the
    // 16-wide steps, the groups of 4 and the scalar tail; T 1 runs the matvec, T 5 the blocks.
    const specials =
      dtype === 'f16'
        ? [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xc100, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x3555]
        : [0x0000, 0x8000, 0x0001, 0x8001, 0x007f, 0x0080, 0x3f80, 0xc020, 0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x7fc0, 0x3eab];
    const I = 21;
    const O = specials.length;
    const bits = new Uint16Array(O * I);
    specials.forEach((h, o) => (bits[o * I + ((5 * o) % I)] = h));
    for (const T of [1, 5]) {
      const { out, packed } = await matmulOn({}, dtype, bits, null, new Float32Array(T * I).fill(1), T, I, O);
      expect(packed).toBe(true);
      for (let t = 0; t < T; t++) {
        const got = Array.from(out.subarray(t * O, (t + 1) * O));
        // +0 + -0 sums to +0: the accumulator starts at +0, so a -0 weight gives +0 like in f32
        const want = specials.map((h) => widen(h, dtype) + 0);
        expect(got).toEqual(want);
      }
    }
  });

  it('embeds from a 16-bit token table and position table, one widened row per token', async () => {
    const next = rng(19);
    const V = 9;
    const C = 7;
    const tok = randomBits(V * C, dtype, next);
    const pos = randomBits(6 * C, dtype, next);
    const ids = Int32Array.from([4, 0, 8, 4]);
    const pos0 = 2;
    const b = new CpuBackend();
    const te = weight(b, 'wte', V, C, dtype, tok) as CpuWeight;
    const pe = weight(b, 'wpe', 6, C, dtype, pos) as CpuWeight;
    expect(te.slot).toBeInstanceOf(U16Slot);
    const out = b.createActivation(4, C);
    const into = new Float32Array(4 * C);
    b.embed(out, ids, 4, te, null, 0);
    await b.read(out, 4, into);
    for (let t = 0; t < 4; t++) {
      for (let c = 0; c < C; c++) expect(into[t * C + c]).toBe(widen(tok[ids[t] * C + c], dtype));
    }
    b.embed(out, ids, 4, te, pe, pos0);
    await b.read(out, 4, into);
    for (let t = 0; t < 4; t++) {
      for (let c = 0; c < C; c++) {
        expect(into[t * C + c]).toBe(Math.fround(widen(tok[ids[t] * C + c], dtype) + widen(pos[(pos0 + t) * C + c], dtype)));
      }
    }
    // `data` of a 16-bit weight is its widening
    expect(Array.from(te.data)).toEqual(Array.from(tok, (h) => widen(h, dtype)));
    b.destroy();
  });

  it('takes half the memory of f32 for a matrix, written in pieces at element offsets', async () => {
    const O = 64;
    const I = 96;
    const bits = randomBits(O * I, dtype, rng(4));
    const sizes: number[] = [];
    for (const stored of [dtype, 'f32'] as const) {
      const b = new CpuBackend();
      const w = b.createWeight('w', O, I, stored);
      const data = stored === 'f32' ? Float32Array.from(bits, (h) => widen(h, dtype)) : bits;
      const bytes = bytesOf(data);
      const cut = 2 * (stored === 'f32' ? 4 : 2) * 1001; // an odd element count, a byte offset not 4-aligned for 16-bit
      b.writeWeight(w, 0, bytes.subarray(0, cut));
      b.writeWeight(w, cut / (stored === 'f32' ? 4 : 2), bytes.subarray(cut));
      expect(Array.from((w as CpuWeight).data)).toEqual(Array.from(bits, (h) => widen(h, dtype)));
      sizes.push((w as CpuWeight).slot.length * ((w as CpuWeight).slot instanceof U16Slot ? 2 : 4));
      b.destroy();
    }
    expect(sizes).toEqual([O * I * 2, O * I * 4]);
  });

  it('runs the matmul in TS when the output did not fit the kernels memory after the weight did', async () => {
    // 2 pages (128 KiB): the 16-bit weight (117 KiB) fits, the output (3 x 1500 floats) then not
    const O = 1500;
    const I = 40;
    const T = 3;
    const next = rng(31);
    const bits = randomBits(O * I, dtype, next);
    const inp = Float32Array.from({ length: T * I }, next);
    const b = new CpuBackend({ maxWasmBytes: 2 * 65536 });
    const w = weight(b, 'w', O, I, dtype, bits) as CpuWeight;
    expect(w.slot).toBeInstanceOf(U16Slot);
    const out = b.createActivation(T, O);
    expect((out as CpuActivation).slot.byteOffset).toBe(-1); // on the heap: the kernel cannot write it
    b.matmul(out, activation(b, T, I, inp), w, null, T);
    const got = new Float32Array(T * O);
    await b.read(out, T, got);
    b.destroy();
    const ts = await matmulOn({ simd: false }, dtype, bits, null, inp, T, I, O);
    let worst = 0;
    for (let k = 0; k < T * O; k++) worst = Math.max(worst, Math.abs(got[k] - ts.out[k]));
    expect(worst).toBeLessThan(1e-5);
    expect(got.some((v) => v !== 0)).toBe(true);
  });

  it('rejects writes that are not whole elements or run past the weight, naming it', () => {
    const b = checkedBackend(new CpuBackend());
    const w = b.createWeight('model.layers.0.mlp.up_proj.weight', 4, 3, dtype);
    const err = (f: () => void): GptError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(GptError);
        return e as GptError;
      }
      throw new Error('expected a GptError');
    };
    const odd = err(() => b.writeWeight(w, 0, new Uint8Array(5)));
    expect(odd.code).toBe('bad-argument');
    expect(odd.message).toMatch(/up_proj\.weight.*5 bytes.*Hint/);
    const over = err(() => b.writeWeight(w, 10, new Uint8Array(6)));
    expect(over.code).toBe('bad-tensor-shape');
    expect(over.message).toMatch(/up_proj\.weight.*3 elements at element 10 overruns its 12.*Hint/);
    b.destroy();
  });
});

describe('16-bit checkpoints on the SIMD CPU backend', () => {
  it('keep their matrices 16-bit and give the logits of the TS path: smollm2-bf16 and qwen2-f16, prefill and decode', async () => {
    for (const fixture of ['smollm2-bf16', 'qwen2-f16']) {
      const files = nodeModelFiles(`test/fixtures/generated/${fixture}`);
      const config = parseModelConfig(await files.text('config.json'), 'config.json');
      const ids = seededIds(11, config.V, 5);
      const logits = [];
      for (const opts of [{ simd: true }, { simd: false }]) {
        const backend = new CpuBackend(opts);
        const weights = await loadWeights(backend, config, files);
        // every matrix 16-bit (the tied head is the embedding), every vector f32
        const matrices = [weights.tokEmb, weights.lmHead, ...weights.layers.flatMap((l) => [l.wqkv, l.wo, l.wUp, l.wDown])] as CpuWeight[];
        for (const w of matrices) expect(w.slot instanceof U16Slot).toBe(opts.simd);
        expect((weights.finalNormW as CpuWeight).slot instanceof U16Slot).toBe(false);
        const model = new GptModel(config, backend, weights, { contextLength: 32, prefillChunk: 8 });
        const rows = [(await model.prefill(ids)).slice()];
        for (const id of [3, 1, 4]) rows.push((await model.decode(id)).slice());
        logits.push(rows);
        model.dispose();
      }
      const [simd, ts] = logits;
      simd.forEach((row, i) => {
        let scale = 0;
        let worst = 0;
        for (let j = 0; j < row.length; j++) {
          scale = Math.max(scale, Math.abs(ts[i][j]));
          worst = Math.max(worst, Math.abs(row[j] - ts[i][j]));
        }
        if (!(worst <= 1e-5 * scale)) throw new Error(`${fixture} row ${i}: max abs error ${worst}, largest logit ${scale}`);
      });
    }
  });
});
