import { describe, expect, it } from 'vitest';
import type { Activation, Backend, Weight } from '../../../src/runtime/backend.ts';
import { CpuBackend, type CpuBackendOptions } from '../../../src/runtime/cpu/cpu-backend.ts';
import { CpuWeight } from '../../../src/runtime/cpu/cpu-tensors.ts';
import { checkedBackend } from '../../../src/runtime/checked-backend.ts';
import { GptError } from '../../../src/errors.ts';
import type { ModelConfig } from '../../../src/runtime/model/config.ts';
import { llamaConfig } from '../../helpers/llama-config.ts';

// Expected numbers are worked out by hand in the comments, except the prefill/decode test, which
// checks a property (processing tokens together or one by one gives the same result).
// Weights and ops run twice: on the WebAssembly SIMD kernels (the default in Node) and on the plain
// TS path (`simd: false`), so the hand-worked values check both.
const PATHS: CpuBackendOptions[] = [{ simd: true }, { simd: false }];
/** A CPU backend behind the contract's checks, as createBackend hands it out. */
const checked = (opts?: CpuBackendOptions) => checkedBackend(new CpuBackend(opts));

function config(over: Partial<ModelConfig>): ModelConfig {
  return llamaConfig({ C: 4, H: 1, Hkv: 1, D: 4, V: 5, ropeInvFreq: new Float32Array([1, 0.01]), ...over });
}

const f32Bytes = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);
const u16Bytes = (bits: number[]): Uint8Array => Uint8Array.from(bits.flatMap((b) => [b & 0xff, b >> 8]));

function weight(b: Backend, name: string, rows: number, cols: number, values: number[]): Weight {
  const w = b.createWeight(name, rows, cols, 'f32');
  b.writeWeight(w, 0, f32Bytes(values));
  return w;
}

function activation(b: Backend, rows: number, cols: number, values: number[]): Activation {
  // activations are only written by ops: route the values through embed of an identity table
  const a = b.createActivation(rows, cols);
  const table = weight(b, 'values', rows, cols, values);
  b.embed(a, Int32Array.from({ length: rows }, (_, i) => i), rows, table, null, 0);
  return a;
}

async function readAll(b: Backend, a: Activation, rows = a.rows): Promise<number[]> {
  const into = new Float32Array(rows * a.cols);
  await b.read(a, rows, into);
  return Array.from(into);
}

function expectClose(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((x, i) => {
    if (Math.abs(x - expected[i]) > tol) throw new Error(`element ${i}: got ${x}, expected ${expected[i]}\n got [${actual.join(', ')}]`);
  });
}

function gptError(f: () => unknown): GptError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GptError);
    return e as GptError;
  }
  throw new Error('expected a GptError, nothing was thrown');
}

describe.each(PATHS)('CpuBackend weights (simd $simd)', (opts) => {
  it('widens f16 and bf16 written in pieces to float32, and runs a matmul with bias on them', async () => {
    const b = checked(opts);
    // w (2, 3) = [[1, -2.5, 0.5], [2, 0, 65504]] as f16, written as two pieces of 4 and 2 elements
    // f16 bits: 1 = 0x3C00, -2.5 = 0xC100, 0.5 = 0x3800, 2 = 0x4000, 0 = 0, 65504 = 0x7BFF
    const w = b.createWeight('w', 2, 3, 'f16');
    b.writeWeight(w, 0, u16Bytes([0x3c00, 0xc100, 0x3800, 0x4000]));
    b.writeWeight(w, 4, u16Bytes([0x0000, 0x7bff]));
    // bias (1, 2) = [1, -2.5] as bf16 (0x3F80, 0xC020)
    const bias = b.createWeight('bias', 1, 2, 'bf16');
    b.writeWeight(bias, 0, u16Bytes([0x3f80, 0xc020]));
    expect(Array.from((w as CpuWeight).data)).toEqual([1, -2.5, 0.5, 2, 0, 65504]);
    expect(w.dtype).toBe('f16');

    // inp (T=2, 3) = [[2, 1, 4], [0, 0, 1]]
    //   row 0: 2 - 2.5 + 2 + 1 = 2.5;   4 + 0 + 262016 - 2.5 = 262017.5
    //   row 1: 0.5 + 1 = 1.5;           65504 - 2.5 = 65501.5
    const inp = activation(b, 2, 3, [2, 1, 4, 0, 0, 1]);
    const out = b.createActivation(2, 2);
    b.matmul(out, inp, w, bias, 2);
    expectClose(await readAll(b, out), [2.5, 262017.5, 1.5, 65501.5]);
  });

  it('rejects writes past the end or of partial elements, naming the weight', () => {
    const b = checked(opts);
    const w = b.createWeight('model.layers.0.mlp.up_proj.weight', 2, 2, 'bf16');
    const past = gptError(() => b.writeWeight(w, 3, u16Bytes([1, 2])));
    expect(past.code).toBe('bad-tensor-shape');
    expect(past.message).toContain('model.layers.0.mlp.up_proj.weight');
    expect(past.message).toMatch(/Hint:/);
    const partial = gptError(() => b.writeWeight(w, 0, new Uint8Array(3)));
    expect(partial.code).toBe('bad-argument');
    expect(partial.message).toContain('up_proj');
    expect(gptError(() => b.createWeight('x', 0, 4, 'f32')).code).toBe('bad-argument');
    expect(gptError(() => b.createWeight('x', 1, 4, 'q4' as never)).code).toBe('unsupported-dtype');
  });
});

describe.each(PATHS)('CpuBackend ops (simd $simd)', (opts) => {
  it('runs a GPT-2 style block piece: learned positions, LayerNorm, GELU, residual, copyRows', async () => {
    const b = checked(opts);
    // tokEmb (V=3, C=4), posEmb (3, 4)
    const tok = weight(b, 'wte', 3, 4, [0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4, 4]);
    const pos = weight(b, 'wpe', 3, 4, [0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 1, 1]);
    const x = b.createActivation(2, 4);
    // ids [1, 2] at positions 1, 2: [1, 2, 3, 4] + 0, [4, 4, 4, 4] + [-1, -1, 1, 1] = [3, 3, 5, 5]
    b.embed(x, Int32Array.from([1, 2]), 2, tok, pos, 1);
    expectClose(await readAll(b, x), [1, 2, 3, 4, 3, 3, 5, 5]);

    // LayerNorm eps 0, weight 1s, bias [0, 0, 0, 1]
    //   row 0: (x - 2.5) / sqrt(1.25) = [-1.341641, -0.447214, 0.447214, 1.341641] + bias
    //   row 1: mean 4, var 1 -> [-1, -1, 1, 1] + bias
    const ln = b.createActivation(2, 4);
    b.layerNorm(ln, x, weight(b, 'ln.w', 1, 4, [1, 1, 1, 1]), weight(b, 'ln.b', 1, 4, [0, 0, 0, 1]), 2, 0);
    expectClose(await readAll(b, ln), [-1.341641, -0.447214, 0.447214, 2.341641, -1, -1, 1, 2]);

    // gelu of row 1 only (T = 1): gelu(-1) = -0.158808, gelu(1) = 0.841192, gelu(2) = 1.954598
    const row = b.createActivation(2, 4);
    b.copyRows(row, ln, 1, 1);
    const g = b.createActivation(2, 4);
    b.gelu(g, row, 1); // out is never an input (the Backend contract), so into a second activation
    const gv = await readAll(b, g, 1);
    expectClose(gv, [-0.158808, -0.158808, 0.841192, 1.954598]);

    // residual: x row 0 += g row 0
    b.addInPlace(x, g, 1);
    expectClose(await readAll(b, x), [1 - 0.158808, 2 - 0.158808, 3.841192, 5.954598, 3, 3, 5, 5]);
  });

  it('runs rmsNorm and swiglu', async () => {
    const b = checked(opts);
    // [1, 7] eps 0: rms 5 -> [0.2, 1.4] * [2, -1] = [0.4, -1.4]
    const x = activation(b, 1, 2, [1, 7]);
    const n = b.createActivation(1, 2);
    b.rmsNorm(n, x, weight(b, 'norm', 1, 2, [2, -1]), 1, 0);
    expectClose(await readAll(b, n), [0.4, -1.4]);
    // w = identity (4, 4), so [gate | up] = x = [0, 1 | 5, 2] -> [0, 0.731059 * 2]
    const h = b.createActivation(1, 2);
    const eye = weight(b, 'mlp.gate_up', 4, 4, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    b.swiglu(h, activation(b, 1, 4, [0, 1, 5, 2]), eye, b.createActivation(1, 4), 1);
    expectClose(await readAll(b, h), [0, 1.462117]);
  });

  it('applies rope and GQA attention through the cache', async () => {
    const b = checked(opts);
    // H = 2, Hkv = 1, D = 4, invFreq [pi/2, pi/4]; two tokens at positions 0 and 1.
    // row = [q0 | q1 | k | v]. Token 0: k = 0 (rotation leaves 0), v = [4, 0, 0, 0].
    // Token 1: k = [0, 0, ln3, 0] at pos 1 -> pair 0 (k0, k2) by 90 deg: k0' = -k2 = -ln3, k2' = k0 = 0
    //   q0 = [0, 0, -2, 0] -> by 90 deg: [2, 0, 0, 0]; q1 = [0, 0, 2, 0] -> [-2, 0, 0, 0]
    //   scores /2: head 0: 0, 2 * -ln3 / 2 = -ln3 -> weights 3/4, 1/4 -> 0.75 v0 + 0.25 v1
    //             head 1: 0, +ln3 -> 1/4, 3/4
    //   v1 = [0, 4, 0, 0]: head 0 -> [3, 1, 0, 0], head 1 -> [1, 3, 0, 0]
    const cfg = config({ H: 2, Hkv: 1, D: 4, C: 8, ropeInvFreq: new Float32Array([Math.PI / 2, Math.PI / 4]) });
    const LN3 = Math.log(3);
    const qkv = activation(b, 2, 16, [
      ...[1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 4, 0, 0, 0],
      ...[0, 0, -2, 0, 0, 0, 2, 0, 0, 0, LN3, 0, 0, 4, 0, 0],
    ]);
    const kv = b.createKvCache(1, 4, 4);
    const out = b.createActivation(2, 8);
    b.attention(out, qkv, kv, 0, 2, 0, cfg); // rotates first: cfg has RoPE
    expectClose(await readAll(b, out), [4, 0, 0, 0, 4, 0, 0, 0, 3, 1, 0, 0, 1, 3, 0, 0]);
  });

  it('gives the same outputs for a prefill of 5 tokens as for 5 single-token decode steps', async () => {
    // embed -> rmsNorm -> qkv matmul -> attention with rope (GQA, 2 layers of cache) -> output matmul.
    // Exercises the 4-row matmul block plus a remainder row, rope and the cache at pos0 > 0.
    const b = checked(opts);
    const cfg = config({ C: 8, H: 4, Hkv: 2, D: 2, V: 6, ropeInvFreq: new Float32Array([0.7]) });
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const vals = (n: number): number[] => Array.from({ length: n }, rand);
    const tok = weight(b, 'tok', 6, 8, vals(48));
    const norm = weight(b, 'norm', 1, 8, vals(8));
    const wqkv = weight(b, 'wqkv', 16, 8, vals(128)); // (H + 2 Hkv) D = 16
    const bqkv = weight(b, 'bqkv', 1, 16, vals(16));
    const wo = weight(b, 'wo', 8, 8, vals(64));
    const ids = Int32Array.from([3, 1, 4, 1, 5]);

    const run = (T: number, pos0: number, kv: ReturnType<Backend['createKvCache']>, s: Record<string, Activation>): void => {
      b.embed(s.x, ids.subarray(pos0, pos0 + T), T, tok, null, pos0);
      b.rmsNorm(s.xb, s.x, norm, T, 1e-5);
      b.matmul(s.qkv, s.xb, wqkv, bqkv, T);
      b.attention(s.att, s.qkv, kv, 1, T, pos0, cfg);
      b.matmul(s.out, s.att, wo, null, T);
    };
    const state = (): Record<string, Activation> => ({
      x: b.createActivation(5, 8),
      xb: b.createActivation(5, 8),
      qkv: b.createActivation(5, 16),
      att: b.createActivation(5, 8),
      out: b.createActivation(5, 8),
    });

    const prefill = state();
    run(5, 0, b.createKvCache(2, 6, 4), prefill);
    const all = await readAll(b, prefill.out);

    const step = state();
    const kv = b.createKvCache(2, 6, 4);
    const steps: number[] = [];
    for (let p = 0; p < 5; p++) {
      run(1, p, kv, step);
      steps.push(...(await readAll(b, step.out, 1)));
    }
    expectClose(steps, all, 1e-5);
    // not trivially equal: later tokens attend to earlier ones, so rows differ
    expect(Math.abs(all[0] - all[8])).toBeGreaterThan(1e-3);
  });

  it('throws context-overflow when positions pass the cache or the learned positions', () => {
    const b = checked(opts);
    const cfg = config({});
    const qkv = b.createActivation(2, 12);
    const out = b.createActivation(2, 4);
    const kv = b.createKvCache(1, 4, 4);
    b.attention(out, qkv, kv, 0, 1, 3, cfg); // position 3 of 4: fits
    const e = gptError(() => b.attention(out, qkv, kv, 0, 2, 3, cfg));
    expect(e.code).toBe('context-overflow');
    expect(e.message).toMatch(/3 \.\. 4.*4 tokens/);

    const tok = weight(b, 'wte', 2, 4, new Array(8).fill(0));
    const pos = weight(b, 'wpe', 3, 4, new Array(12).fill(0));
    const x = b.createActivation(2, 4);
    const p = gptError(() => b.embed(x, Int32Array.from([0, 1]), 2, tok, pos, 2));
    expect(p.code).toBe('context-overflow');
    expect(p.message).toContain('wpe');
  });

  it('rejects mismatched shapes and ids with messages that name the culprit', () => {
    const b = checked(opts);
    const w = weight(b, 'lm_head', 3, 4, new Array(12).fill(1));
    const inp = b.createActivation(2, 5);
    const out = b.createActivation(2, 3);
    const m = gptError(() => b.matmul(out, inp, w, null, 1));
    expect(m.code).toBe('bad-argument');
    expect(m.message).toContain("'lm_head' (3x4) expects 4 inputs");
    const ok = b.createActivation(2, 4);
    expect(gptError(() => b.matmul(out, ok, w, null, 3)).message).toMatch(/T = 3.*1 \.\. 2/);
    expect(gptError(() => b.matmul(out, ok, w, weight(b, 'bias', 1, 4, [0, 0, 0, 0]), 1)).message).toContain("'bias'");
    const id = gptError(() => b.embed(ok, Int32Array.from([3]), 1, w, null, 0));
    expect(id.message).toContain('token id 3');
    expect(id.message).toContain('lm_head');
    const rope = gptError(() => b.attention(b.createActivation(1, 4), b.createActivation(1, 12), b.createKvCache(1, 4, 4), 0, 1, 0, config({ ropeInvFreq: new Float32Array(0) })));
    expect(rope.code).toBe('bad-config');
    expect(gptError(() => b.attention(b.createActivation(1, 4), b.createActivation(1, 12), b.createKvCache(1, 4, 4), 1, 1, 0, config({}))).message).toMatch(/layer 1/);
  });
});

describe('CpuBackend results and lifetime', () => {
  it('read copies rows, flush resolves, destroy frees and refuses further use', async () => {
    const b = checked();
    const a = activation(b, 3, 2, [1, 2, 3, 4, 5, 6]);
    const into = new Float32Array(4).fill(-1);
    await b.read(a, 2, into);
    expect(Array.from(into)).toEqual([1, 2, 3, 4]);
    // a copy, not a view: later ops do not change what was read
    b.addInPlace(a, activation(b, 3, 2, [1, 1, 1, 1, 1, 1]), 1);
    expect(Array.from(into)).toEqual([1, 2, 3, 4]);
    await expect(b.read(a, 3, into)).rejects.toThrow(/'into' holds 4 floats/);
    await expect(b.flush()).resolves.toBeUndefined();

    const w = weight(b, 'w', 1, 2, [1, 2]) as CpuWeight;
    b.destroy();
    expect(w.data.length).toBe(0);
    expect(gptError(() => b.createActivation(1, 1)).code).toBe('disposed');
    await expect(b.flush()).rejects.toMatchObject({ code: 'disposed' });
  });
});
