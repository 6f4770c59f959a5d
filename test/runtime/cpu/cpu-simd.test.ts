import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseModelConfig } from '../../../src/runtime/model/hf-config.ts';
import type { Activation, Backend, Weight } from '../../../src/runtime/backend.ts';
import { CpuBackend, type CpuBackendOptions } from '../../../src/runtime/cpu/cpu-backend.ts';
import { type CpuActivation, type CpuKvCache, type CpuWeight } from '../../../src/runtime/cpu/cpu-tensors.ts';
import { simdSupported } from '../../../src/runtime/cpu/simd-kernels.ts';
import { WasmArena } from '../../../src/runtime/cpu/wasm-arena.ts';
import { GptError } from '../../../src/errors.ts';
import type { ModelConfig } from '../../../src/runtime/model/config.ts';
import { GptModel } from '../../../src/runtime/model/gpt-model.ts';
import { loadWeights } from '../../../src/runtime/model/load-weights.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { seededIds } from '../../helpers/parity-cases.ts';

// The WebAssembly SIMD kernels (src/runtime/cpu/kernels/*.wat) against the plain TS ops they
// replace: the same calls on `new CpuBackend()` (SIMD) and `new CpuBackend({ simd: false })`.
// The TS path sums in float64, the kernels in float32, so results agree to float32 rounding of a
// dot product: |simd - ts| <= 1e-5 (sum |a_i b_i| + |bias|), the bound that does not blow up
// when a dot product cancels to near zero.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const f32Bytes = (xs: Float32Array): Uint8Array => new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength);

function weight(b: Backend, name: string, rows: number, cols: number, values: Float32Array): Weight {
  const w = b.createWeight(name, rows, cols, 'f32');
  b.writeWeight(w, 0, f32Bytes(values));
  return w;
}

// an activation holding `values`, written the only way the Backend interface allows: embed of an
// identity table
function activation(b: Backend, rows: number, cols: number, values: Float32Array): Activation {
  const a = b.createActivation(rows, cols);
  b.embed(a, Int32Array.from({ length: rows }, (_, i) => i), rows, weight(b, 'values', rows, cols, values), null, 0);
  return a;
}

function random(n: number, next: () => number): Float32Array {
  return Float32Array.from({ length: n }, next);
}

/** The matmul of inp (T, I) with w (O, I) and bias on one backend; returns out (T, O). */
async function matmulOn(opts: CpuBackendOptions, w: Float32Array, bias: Float32Array | null, inp: Float32Array, T: number, I: number, O: number) {
  const b = new CpuBackend(opts);
  const out = b.createActivation(T, O);
  b.matmul(out, activation(b, T, I, inp), weight(b, 'w', O, I, w), bias === null ? null : weight(b, 'bias', 1, O, bias), T);
  const into = new Float32Array(T * O);
  await b.read(out, T, into);
  b.destroy();
  return into;
}

/** The largest |a - b| / (scale + 1e-30) over all elements: a relative error against `scale`. */
function worstRelative(a: Float32Array, b: Float32Array, scale: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (scale[i] + 1e-30));
  return worst;
}

describe('WebAssembly SIMD CPU kernels', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('are what a default CpuBackend uses in Node, and { simd: false } turns them off', () => {
    expect(simdSupported()).toBe(true);
    expect(new CpuBackend().simd).toBe(true);
    expect(new CpuBackend({ simd: true }).simd).toBe(true);
    expect(new CpuBackend({ simd: false }).simd).toBe(false);
    // the SIMD backend's arrays live in WebAssembly memory, the TS one's on the heap
    const simd = new CpuBackend().createActivation(2, 3) as CpuActivation;
    const ts = new CpuBackend({ simd: false }).createActivation(2, 3) as CpuActivation;
    expect(simd.slot.byteOffset).toBeGreaterThan(0);
    expect(simd.slot.byteOffset % 16).toBe(0);
    expect(ts.slot.byteOffset).toBe(-1);
  });

  it('matmul matches the TS path for every remainder of T mod 4, I mod 16 and O mod 2, with and without bias', async () => {
    const next = rng(11);
    let cases = 0;
    for (const T of [1, 2, 3, 4, 5, 8, 11]) {
      for (const I of [1, 3, 4, 5, 8, 12, 15, 16, 17, 33, 47, 64, 70]) {
        for (const O of [1, 2, 3, 5]) {
          for (const withBias of [false, true]) {
            const w = random(O * I, next);
            const inp = random(T * I, next);
            const bias = withBias ? random(O, next) : null;
            const simd = await matmulOn({}, w, bias, inp, T, I, O);
            const ts = await matmulOn({ simd: false }, w, bias, inp, T, I, O);
            // scale: sum_i |w[o, i] inp[t, i]| + |bias[o]|
            const scale = new Float32Array(T * O);
            for (let t = 0; t < T; t++) {
              for (let o = 0; o < O; o++) {
                let s = bias === null ? 0 : Math.abs(bias[o]);
                for (let i = 0; i < I; i++) s += Math.abs(w[o * I + i] * inp[t * I + i]);
                scale[t * O + o] = s;
              }
            }
            const err = worstRelative(simd, ts, scale);
            if (!(err <= 1e-5)) throw new Error(`T ${T} I ${I} O ${O} bias ${withBias}: relative error ${err}`);
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(7 * 13 * 4 * 2);
  });

  it('matmul gives a token the same bits whether it runs alone or in a block of 4 (batch invariance)', async () => {
    // Scoring after a rewind re-runs tokens in a different grouping and must reproduce the score
    // exactly (cpu-model.test.ts), so the block and matvec loops sum in one order.
    const next = rng(3);
    for (const I of [16, 19, 288]) {
      const O = 7;
      const T = 6; // one block of 4 and 2 single rows
      const w = random(O * I, next);
      const bias = random(O, next);
      const inp = random(T * I, next);
      const together = await matmulOn({}, w, bias, inp, T, I, O);
      for (let t = 0; t < T; t++) {
        const alone = await matmulOn({}, w, bias, inp.subarray(t * I, (t + 1) * I), 1, I, O);
        expect(Array.from(together.subarray(t * O, (t + 1) * O))).toEqual(Array.from(alone));
      }
    }
  });

  it('matmul computes known values on a shape with every tail (T 5, I 7, O 3)', async () => {
    // w row o = [o + 1, 0, 0, 0, 0, 0, -1]; inp row t = [t, 1, 1, 1, 1, 1, 10]; bias [0.5, 0, -0.5]
    //   out[t, o] = (o + 1) t - 10 + bias[o]
    const T = 5;
    const I = 7;
    const O = 3;
    const w = new Float32Array(O * I);
    for (let o = 0; o < O; o++) {
      w[o * I] = o + 1;
      w[o * I + 6] = -1;
    }
    const inp = new Float32Array(T * I);
    for (let t = 0; t < T; t++) inp.set([t, 1, 1, 1, 1, 1, 10], t * I);
    const bias = Float32Array.from([0.5, 0, -0.5]);
    const out = await matmulOn({ simd: true }, w, bias, inp, T, I, O);
    const expected = Array.from({ length: T * O }, (_, k) => (Math.floor(k / O) * ((k % O) + 1)) - 10 + bias[k % O]);
    expect(Array.from(out)).toEqual(expected);
  });

  it('attention matches the TS path, cache included, for head sizes with every tail and grouped heads', async () => {
    const next = rng(23);
    for (const D of [1, 3, 4, 6, 8, 16, 20, 36, 48]) {
      for (const [H, Hkv] of [[1, 1], [4, 2], [6, 1]]) {
        const cfg = { H, Hkv, D } as ModelConfig;
        const width = (H + 2 * Hkv) * D;
        const L = 2;
        const S = 12;
        // prefill 5 tokens at positions 0..4, then one decode step at 5 and a chunk of 3 at 6..8
        const steps: Array<[T: number, pos0: number]> = [[5, 0], [1, 5], [3, 6]];
        const inputs = steps.map(([T]) => random(T * width, () => 3 * next()));
        const results = [];
        for (const opts of [{ simd: true }, { simd: false }]) {
          const b = new CpuBackend(opts);
          const kv = b.createKvCache(L, S, Hkv * D);
          const outs: Float32Array[] = [];
          steps.forEach(([T, pos0], i) => {
            const out = b.createActivation(T, H * D);
            b.attention(out, activation(b, T, width, inputs[i]), kv, 1, T, pos0, cfg);
            outs.push((out as CpuActivation).data.slice());
          });
          results.push({ outs, k: (kv as CpuKvCache).k.slice(), v: (kv as CpuKvCache).v.slice() });
        }
        const [simd, ts] = results;
        // outputs are convex combinations of cached values: their scale is the largest |v|
        let vmax = 0;
        for (const x of ts.v) vmax = Math.max(vmax, Math.abs(x));
        simd.outs.forEach((o, i) => {
          let worst = 0;
          for (let j = 0; j < o.length; j++) worst = Math.max(worst, Math.abs(o[j] - ts.outs[i][j]));
          if (!(worst <= 1e-5 * vmax)) throw new Error(`D ${D} H ${H} Hkv ${Hkv} step ${i}: max abs error ${worst}`);
        });
        // the cache holds exact copies, layer 0 untouched
        expect(simd.k).toEqual(ts.k);
        expect(simd.v).toEqual(ts.v);
        expect(simd.k.subarray(0, S * Hkv * D).every((x) => x === 0)).toBe(true);
      }
    }
  });

  it('keeps earlier arrays intact when the memory grows, and ops still read them', async () => {
    const b = new CpuBackend();
    const w = weight(b, 'w', 2, 3, Float32Array.from([1, 2, 3, 4, 5, 6])) as CpuWeight;
    const x = activation(b, 1, 3, Float32Array.from([1, 0, -1]));
    const before = w.data;
    // 64 MiB: far past the pages allocated so far, so the memory grows and its old buffer detaches
    const big = b.createActivation(4096, 4096) as CpuActivation;
    expect(before.length).toBe(0); // detached by the growth: why callers must re-read `data`
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(big.data.length).toBe(4096 * 4096);
    expect(big.data[4096 * 4096 - 1]).toBe(0);
    const out = b.createActivation(1, 2);
    b.matmul(out, x, w, null, 1);
    const into = new Float32Array(2);
    await b.read(out, 1, into);
    expect(Array.from(into)).toEqual([-2, -2]);
    b.destroy();
  });

  it('keeps arrays that do not fit the kernels memory on the heap and runs their ops in TS', async () => {
    // An arena of at most 2 pages (128 KiB): the weight below (160 KiB) cannot go there.
    const b = new CpuBackend({ maxWasmBytes: 2 * 65536 });
    expect(b.simd).toBe(true);
    const I = 40;
    const O = 1024;
    const next = rng(5);
    const wv = random(O * I, next);
    const xv = random(I, next);
    const w = weight(b, 'big', O, I, wv) as CpuWeight;
    expect(w.slot.byteOffset).toBe(-1);
    const x = activation(b, 1, I, xv) as CpuActivation;
    expect(x.slot.byteOffset).toBeGreaterThan(0);
    const out = b.createActivation(1, O);
    b.matmul(out, x, w, null, 1);
    const into = new Float32Array(O);
    await b.read(out, 1, into);
    const ts = await matmulOn({ simd: false }, wv, null, xv, 1, I, O);
    expect(Array.from(into)).toEqual(Array.from(ts)); // the very TS code, so bit for bit
    b.destroy();
  });

  it('rejects a maxWasmBytes below one page, naming the option', () => {
    for (const bad of [0, 1000, -1, Number.NaN]) {
      let err: unknown;
      try {
        new CpuBackend({ maxWasmBytes: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GptError);
      expect((err as GptError).code).toBe('bad-argument');
      expect((err as GptError).message).toContain('maxWasmBytes');
    }
  });

  it('a WasmArena hands out aligned, zeroed, non-overlapping slots and says null when full', () => {
    const arena = new WasmArena(65536);
    const a = arena.alloc(3)!;
    const b = arena.alloc(5)!;
    expect(a.byteOffset).toBe(64); // 0 .. 63 stay free: offset 0 means "no array" to the kernels
    expect(b.byteOffset).toBe(128);
    a.view.fill(7);
    expect(Array.from(b.view)).toEqual([0, 0, 0, 0, 0]);
    expect(arena.alloc(65536 / 4)).toBeNull();
    expect(arena.alloc(100)).not.toBeNull(); // a failed request does not use up the space
  });

  it('falls back to TS where WebAssembly SIMD is missing, and refuses simd: true there', () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    expect(simdSupported()).toBe(false);
    expect(new CpuBackend().simd).toBe(false);
    let err: unknown;
    try {
      new CpuBackend({ simd: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GptError);
    expect((err as GptError).code).toBe('bad-argument');
    expect((err as GptError).message).toMatch(/WebAssembly SIMD.*Hint: leave 'simd' unset/);
  });

  it('gives the logits of the TS path on whole models: prefill and decode', async () => {
    for (const fixture of ['llama', 'gpt2', 'smollm2-135m']) {
      const files = nodeModelFiles(`test/fixtures/generated/${fixture}`);
      const config = parseModelConfig(await files.text('config.json'), 'config.json');
      const ids = seededIds(13, config.V, 9);
      const logits = [];
      for (const opts of [{ simd: true }, { simd: false }]) {
        const backend = new CpuBackend(opts);
        const model = new GptModel(config, backend, await loadWeights(backend, config, files), { contextLength: 32, prefillChunk: 8 });
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
