import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Backend, FloatDType, KvCache, Weight } from '../../../src/runtime/backend.ts';
import { checkedBackend } from '../../../src/runtime/checked-backend.ts';
import { CpuBackend } from '../../../src/runtime/cpu/cpu-backend.ts';
import { GptError } from '../../../src/errors.ts';
import type { ModelConfig } from '../../../src/runtime/model/config.ts';
import { llamaConfig } from '../../helpers/llama-config.ts';
import { convertDType } from '../../../src/runtime/model/convert-dtype.ts';
import { acquireDevice, isCpuBackedDevice } from '../../../src/runtime/webgpu/device.ts';
import { nodeGpu } from '../../../src/runtime/webgpu/node-gpu.ts';
import { GpuWeight } from '../../../src/runtime/webgpu/gpu-weight.ts';
import { KERNELS, matvecKernel, PipelineCache, type Kernel } from '../../../src/runtime/webgpu/kernels.ts';
import { WebGpuBackend, type KernelStyle } from '../../../src/runtime/webgpu/webgpu-backend.ts';

// Every WebGPU op against the CPU backend (float64 accumulation) on small seeded inputs. Sizes are
// tiny on purpose: Dawn runs on SwiftShader here, on two shared CPU cores.

let device: GPUDevice;
let gpu: WebGpuBackend; // the backend of the kernel style under test (see forEachStyle)
let cpu: CpuBackend;
let style: KernelStyle = 'serial';
const backends: WebGpuBackend[] = [];

beforeAll(async () => {
  device = await acquireDevice({ gpu: nodeGpu });
  gpu = new WebGpuBackend(device);
  cpu = new CpuBackend();
});

afterAll(() => {
  gpu?.destroy();
  for (const b of backends) b.destroy();
  cpu?.destroy();
  device?.destroy();
});

/**
 * Runs `suite` once per kernel variant: the serial kernels SwiftShader picks by default here, and
 * the cooperative ones real GPUs run, with the decode matvec reduced in workgroup memory and, where
 * the adapter offers `subgroups` (Dawn's SwiftShader does), by subgroups; all against the CPU.
 */
function forEachStyle(suite: () => void): void {
  for (const [s, subgroups] of [['serial', false], ['cooperative', false], ['cooperative', true]] as const) {
    describe(`${s} kernels${subgroups ? ' with subgroups' : ''}`, () => {
      beforeAll(() => {
        style = s;
        if (subgroups && !device.features.has('subgroups')) console.warn('this adapter has no subgroups: the subgroup matvec is not tested');
        gpu = new WebGpuBackend(device, { kernels: s, subgroups: subgroups && device.features.has('subgroups') });
        backends.push(gpu);
      });
      suite();
    });
  }
}

// ---- fixtures: seeded numbers, the same weights and activations on both backends ----

function random(seed: number): () => number {
  // mulberry32, uniform in [-1, 1)
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function values(n: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: n }, () => next() * scale);
}

/** Little-endian bytes of `xs` as `dtype` elements (rounded to nearest even). */
function bytesOf(xs: Float32Array, dtype: FloatDType): Uint8Array {
  return convertDType(new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength), 'f32', dtype);
}

interface Twin<T> {
  readonly gpu: T;
  readonly cpu: T;
}

function twinWeight(name: string, rows: number, cols: number, dtype: FloatDType, xs: Float32Array, g: Backend = gpu): Twin<Weight> {
  const bytes = bytesOf(xs, dtype);
  const make = (b: Backend) => {
    const w = b.createWeight(name, rows, cols, dtype);
    b.writeWeight(w, 0, bytes);
    return w;
  };
  return { gpu: make(g), cpu: make(cpu) };
}

/** An activation holding `xs` on both backends (written through embed of an identity table). */
function twinAct(rows: number, cols: number, xs?: Float32Array, g: Backend = gpu): Twin<Activation> {
  const acts = { gpu: g.createActivation(rows, cols), cpu: cpu.createActivation(rows, cols) };
  if (xs) {
    const table = twinWeight('values', rows, cols, 'f32', xs, g);
    const ids = Int32Array.from({ length: rows }, (_, i) => i);
    g.embed(acts.gpu, ids, rows, table.gpu, null, 0);
    cpu.embed(acts.cpu, ids, rows, table.cpu, null, 0);
  }
  return acts;
}

async function readRows(b: Backend, a: Activation, rows: number): Promise<Float32Array> {
  const into = new Float32Array(rows * a.cols);
  await b.read(a, rows, into);
  return into;
}

/** Rows 0 .. rows-1 agree within `tol` (absolute below 1, relative above). */
async function expectSame(a: Twin<Activation>, rows: number, tol: number, g: Backend = gpu): Promise<Float32Array> {
  const got = await readRows(g, a.gpu, rows);
  const want = await readRows(cpu, a.cpu, rows);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `worst error at element ${at}: gpu ${got[at]} cpu ${want[at]}`).toBeLessThanOrEqual(tol);
  return got;
}

function config(over: Partial<ModelConfig> = {}): ModelConfig {
  return llamaConfig({ L: 2, C: 32, H: 4, Hkv: 2, D: 16, F: 24, V: 50, maxPositions: 128, ...over });
}

function expectGptError(fn: () => unknown, code: string, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GptError);
  expect((caught as GptError).code).toBe(code);
  for (const f of fragments) expect((caught as GptError).message).toContain(f);
}

// ---- tests ----

describe('WebGPU kernels compile', () => {
  it('has no WGSL errors in any kernel or dtype variant', async () => {
    expect(await gpu.compileErrors()).toEqual([]);
  });

  it('asks for subgroups where the adapter offers them, and uses them in the cooperative matvec', async () => {
    const adapter = await (await nodeGpu()).requestAdapter();
    const offered = adapter?.features.has('subgroups') ?? false;
    expect(device.features.has('subgroups')).toBe(offered);
    expect(new WebGpuBackend(device, { kernels: 'cooperative' }).subgroups).toBe(offered);
    expect(matvecKernel('cooperative', true)).toBe(KERNELS.matvecSubgroup);
    expect(matvecKernel('cooperative', false)).toBe(KERNELS.matvec);
    expect(matvecKernel('serial', true)).toBe(KERNELS.matvecPerRow);
  });
});

describe('the KERNELS table', () => {
  const wgslConst = (k: Kernel, name: string) => Number(new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(k.code)?.[1]);

  it('sizes the per-row dispatches with the rows and tokens the unrolled WGSL computes', () => {
    const mv = KERNELS.matvecPerRow;
    const mm = KERNELS.matmulPerRow;
    expect(mv.perWorkgroup[0]).toBe(mv.constants.WG * wgslConst(mv, 'ROWS'));
    expect(mm.perWorkgroup).toEqual([mm.constants.WG * wgslConst(mm, 'ROWS'), wgslConst(mm, 'TOKENS')]);
  });

  it('sets every override a kernel declares without a default, and only those', () => {
    for (const k of Object.values(KERNELS)) {
      const required = [...k.code.matchAll(/^override (\w+): u32;/gm)].map((m) => m[1]).sort();
      expect(Object.keys(k.constants).sort(), k.file).toEqual(required);
    }
  });
});

forEachStyle(() => {
  describe('WebGPU embed', () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      it(`gathers ${dtype} token rows and adds learned positions (T=5, pos0=3)`, async () => {
        const V = 20;
        const C = 24;
        const tok = twinWeight('wte', V, C, dtype, values(V * C, 1));
        const pos = twinWeight('wpe', 16, C, dtype, values(16 * C, 2));
        const out = twinAct(5, C);
        const ids = Int32Array.from([3, 19, 0, 3, 7]);
        gpu.embed(out.gpu, ids, 5, tok.gpu, pos.gpu, 3);
        cpu.embed(out.cpu, ids, 5, tok.cpu, pos.cpu, 3);
        const got = await expectSame(out, 5, 1e-6);
        // and really the table: row 1 of out is wte[19] + wpe[4], not zeros
        expect(Math.abs(got[C])).toBeGreaterThan(0);
      });
    }

    it('gathers only T rows (T=1) and leaves the others alone', async () => {
      const tok = twinWeight('wte', 10, 8, 'f32', values(80, 3));
      const out = twinAct(3, 8, values(24, 4));
      gpu.embed(out.gpu, Int32Array.from([9]), 1, tok.gpu, null, 0);
      cpu.embed(out.cpu, Int32Array.from([9]), 1, tok.cpu, null, 0);
      await expectSame(out, 3, 0);
    });

    it('rejects a token id outside the vocabulary, naming it', () => {
      const g = checkedBackend(gpu); // the argument checks are the Backend contract's (checked-backend.ts)
      const tok = twinWeight('wte', 10, 8, 'f32', values(80, 3), g);
      const out = g.createActivation(2, 8);
      expectGptError(() => g.embed(out, Int32Array.from([1, 10]), 2, tok.gpu, null, 0), 'bad-argument', 'token id 10', '0 .. 9');
    });
  });

  describe('WebGPU norms', () => {
    it('layerNorm matches the CPU (T=5, C=40)', async () => {
      const inp = twinAct(5, 40, values(200, 5, 3));
      const w = twinWeight('ln.w', 1, 40, 'bf16', values(40, 6));
      const b = twinWeight('ln.b', 1, 40, 'f16', values(40, 7));
      const out = twinAct(5, 40);
      gpu.layerNorm(out.gpu, inp.gpu, w.gpu, b.gpu, 5, 1e-5);
      cpu.layerNorm(out.cpu, inp.cpu, w.cpu, b.cpu, 5, 1e-5);
      await expectSame(out, 5, 1e-5);
    });

    it('rmsNorm matches the CPU (T=1 and T=5, C=300 > one workgroup)', async () => {
      const inp = twinAct(5, 300, values(1500, 8, 2));
      const w = twinWeight('rms.w', 1, 300, 'f32', values(300, 9));
      for (const T of [1, 5]) {
        const out = twinAct(5, 300);
        gpu.rmsNorm(out.gpu, inp.gpu, w.gpu, T, 1e-6);
        cpu.rmsNorm(out.cpu, inp.cpu, w.cpu, T, 1e-6);
        await expectSame(out, T, 1e-5);
      }
    });
  });

  describe('WebGPU matmul', () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      for (const T of [1, 5, 37]) {
        it(`${dtype} weights, T=${T}, with and without bias`, async () => {
          const I = 40;
          const O = 36;
          const inp = twinAct(T, I, values(T * I, 10 + T));
          const w = twinWeight('w', O, I, dtype, values(O * I, 11));
          const bias = twinWeight('b', 1, O, dtype, values(O, 12));
          const out = twinAct(T, O);
          gpu.matmul(out.gpu, inp.gpu, w.gpu, bias.gpu, T);
          cpu.matmul(out.cpu, inp.cpu, w.cpu, bias.cpu, T);
          await expectSame(out, T, 1e-4);
          gpu.matmul(out.gpu, inp.gpu, w.gpu, null, T);
          cpu.matmul(out.cpu, inp.cpu, w.cpu, null, T);
          await expectSame(out, T, 1e-4);
        });
      }
    }

    for (const T of [1, 6]) {
      it(`spans several workgroups with a ragged last block (O=601, T=${T}, f16)`, async () => {
        // 601 rows: three workgroups of 256 rows in the serial kernels and a last invocation
        // holding one row; T=6 leaves a ragged block of tokens too.
        const I = 48;
        const O = 601;
        const inp = twinAct(T, I, values(T * I, 13 + T));
        const w = twinWeight('lm_head', O, I, 'f16', values(O * I, 14));
        const bias = twinWeight('b', 1, O, 'f32', values(O, 15));
        const out = twinAct(T, O, values(T * O, 16));
        gpu.matmul(out.gpu, inp.gpu, w.gpu, bias.gpu, T);
        cpu.matmul(out.cpu, inp.cpu, w.cpu, bias.cpu, T);
        const got = await expectSame(out, T, 1e-4);
        expect(got[T * O - 1]).not.toBe(0);
      });
    }

    it('rejects mismatched shapes, naming the weight', () => {
      const g = checkedBackend(gpu);
      const w = g.createWeight('blk.0.wqkv', 12, 8, 'f16');
      const inp = g.createActivation(2, 12);
      const out = g.createActivation(2, 12);
      expectGptError(() => g.matmul(out, inp, w, null, 2), 'bad-argument', 'blk.0.wqkv', '8');
    });
  });

  describe('WebGPU weights larger than one binding', () => {
    it('splits by rows and runs matmul and embed once per part', async () => {
      const small = new WebGpuBackend(device, { maxBindingBytes: 4096, kernels: style });
      try {
        const I = 40;
        const O = 100; // f32 rows of 160 bytes: 25 per part, 4 parts; f16: 51 per part, 2 parts
        for (const [dtype, parts] of [['f32', 4], ['f16', 2], ['bf16', 2]] as const) {
          const w = twinWeight('lm_head', O, I, dtype, values(O * I, 20), small);
          expect((w.gpu as GpuWeight).parts.length).toBe(parts);
          const bias = twinWeight('b', 1, O, 'f32', values(O, 21), small);
          for (const T of [1, 5]) {
            const inp = twinAct(T, I, values(T * I, 22), small);
            const out = twinAct(T, O, undefined, small);
            small.matmul(out.gpu, inp.gpu, w.gpu, bias.gpu, T);
            cpu.matmul(out.cpu, inp.cpu, w.cpu, bias.cpu, T);
            await expectSame(out, T, 1e-4, small);
          }
        }
        // (100, 24) f32 tables: 96-byte rows, 42 per part, 3 parts each
        const tok = twinWeight('wte', 100, 24, 'f32', values(2400, 23), small);
        const pos = twinWeight('wpe', 100, 24, 'bf16', values(2400, 24), small);
        expect((tok.gpu as GpuWeight).parts.length).toBe(3);
        const out = twinAct(5, 24, undefined, small);
        const ids = Int32Array.from([0, 41, 42, 99, 60]);
        small.embed(out.gpu, ids, 5, tok.gpu, pos.gpu, 40);
        cpu.embed(out.cpu, ids, 5, tok.cpu, pos.cpu, 40);
        await expectSame(out, 5, 1e-6, small);
      } finally {
        small.destroy();
      }
    });

    it('refuses a single row above the binding limit with a hint', () => {
      const small = new WebGpuBackend(device, { maxBindingBytes: 64, kernels: style });
      try {
        expectGptError(() => small.createWeight('wte', 4, 32, 'f32'), 'bad-tensor-shape', 'wte', '64 bytes', 'Hint');
      } finally {
        small.destroy();
      }
    });
  });

  describe('WebGPU writeWeight', () => {
    it('assembles 16-bit weights from ragged writes in any order', async () => {
      // (3, 5) f16: rows of odd width, so rows 1 and 2 start halfway through a u32
      const xs = values(15, 30);
      const bytes = bytesOf(xs, 'f16');
      const w = gpu.createWeight('odd', 3, 5, 'f16');
      const c = cpu.createWeight('odd', 3, 5, 'f16');
      for (const [from, to] of [[10, 15], [0, 3], [5, 10], [3, 5]]) {
        gpu.writeWeight(w, from, bytes.subarray(2 * from, 2 * to));
        cpu.writeWeight(c, from, bytes.subarray(2 * from, 2 * to));
      }
      const out = twinAct(3, 5);
      const ids = Int32Array.from([2, 0, 1]);
      gpu.embed(out.gpu, ids, 3, w, null, 0);
      cpu.embed(out.cpu, ids, 3, c, null, 0);
      await expectSame(out, 3, 0);
    });

    it('rejects a write past the end, naming the weight', () => {
      const g = checkedBackend(gpu);
      const w = g.createWeight('blk.1.wo', 2, 4, 'bf16');
      expectGptError(() => g.writeWeight(w, 6, new Uint8Array(8)), 'bad-tensor-shape', 'blk.1.wo', 'element 6');
      expectGptError(() => g.writeWeight(w, 0, new Uint8Array(3)), 'bad-argument', 'blk.1.wo', 'bf16');
    });
  });

  describe('WebGPU rope and attention', () => {
    const cfg = config();
    const W = (cfg.H + 2 * cfg.Hkv) * cfg.D;

    it('rotates q and k heads in place, leaves v alone and attends (T=5, pos0=7)', async () => {
      const qkv = twinAct(5, W, values(5 * W, 40));
      const out = twinAct(5, cfg.H * cfg.D);
      const kv: Twin<KvCache> = { gpu: gpu.createKvCache(1, 12, cfg.Hkv * cfg.D), cpu: cpu.createKvCache(1, 12, cfg.Hkv * cfg.D) };
      gpu.attention(out.gpu, qkv.gpu, kv.gpu, 0, 5, 7, cfg);
      cpu.attention(out.cpu, qkv.cpu, kv.cpu, 0, 5, 7, cfg);
      await expectSame(qkv, 5, 1e-5);
      await expectSame(out, 5, 1e-4);
    });

    it('rotates at a position where f32 cos loses digits (pos0=5000)', async () => {
      const far = config({ maxPositions: 8192 });
      const qkv = twinAct(1, W, values(W, 41));
      const out = twinAct(1, far.H * far.D);
      const kv: Twin<KvCache> = { gpu: gpu.createKvCache(1, 5001, far.Hkv * far.D), cpu: cpu.createKvCache(1, 5001, far.Hkv * far.D) };
      gpu.attention(out.gpu, qkv.gpu, kv.gpu, 0, 1, 5000, far);
      cpu.attention(out.cpu, qkv.cpu, kv.cpu, 0, 1, 5000, far);
      await expectSame(qkv, 1, 1e-5);
    });

    it('leaves q and k unrotated with learned positions (GPT-2) and attends (T=3 then 1)', async () => {
      const learned = config({ position: 'learned' });
      const kv: Twin<KvCache> = { gpu: gpu.createKvCache(1, 8, learned.Hkv * learned.D), cpu: cpu.createKvCache(1, 8, learned.Hkv * learned.D) };
      const out = twinAct(3, learned.H * learned.D);
      let pos0 = 0;
      for (const T of [3, 1]) {
        const xs = values(T * W, 42 + T, 2);
        const qkv = twinAct(T, W, xs);
        gpu.attention(out.gpu, qkv.gpu, kv.gpu, 0, T, pos0, learned);
        cpu.attention(out.cpu, qkv.cpu, kv.cpu, 0, T, pos0, learned);
        expect(Array.from(await readRows(gpu, qkv.gpu, T))).toEqual(Array.from(xs));
        await expectSame(out, T, 1e-4);
        pos0 += T;
      }
    });

    it('stores k/v and attends causally with GQA over earlier stores (T=5, 1, 5, then 70 keys)', async () => {
      const S = 100;
      const kv: Twin<KvCache> = { gpu: gpu.createKvCache(2, S, cfg.Hkv * cfg.D), cpu: cpu.createKvCache(2, S, cfg.Hkv * cfg.D) };
      const out = twinAct(70, cfg.H * cfg.D);
      let pos0 = 0;
      let seed = 50;
      for (const T of [5, 1, 5, 59]) {
        // 59 tokens from position 11 end at 70: more than one 64-key tile. Rows grow with their
        // position, so later tiles hold larger scores and the online softmax must rescale.
        const xs = values(T * W, seed++, 2);
        for (let t = 0; t < T; t++) for (let j = 0; j < W; j++) xs[t * W + j] *= 1 + (pos0 + t) / 16;
        const qkv = twinAct(T, W, xs);
        for (const layer of [0, 1]) {
          gpu.attention(out.gpu, qkv.gpu, kv.gpu, layer, T, pos0, cfg);
          cpu.attention(out.cpu, qkv.cpu, kv.cpu, layer, T, pos0, cfg);
          await expectSame(out, T, 1e-4);
        }
        pos0 += T;
      }
    });

    it('attends with a head size that is not a multiple of 4 (D=6, T=3 then 1)', async () => {
      const odd = config({ D: 6, H: 2, Hkv: 1 });
      const Wodd = (odd.H + 2 * odd.Hkv) * odd.D;
      const kv: Twin<KvCache> = { gpu: gpu.createKvCache(1, 8, odd.D), cpu: cpu.createKvCache(1, 8, odd.D) };
      const out = twinAct(3, odd.H * odd.D);
      let pos0 = 0;
      for (const T of [3, 1]) {
        const qkv = twinAct(T, Wodd, values(T * Wodd, 55 + T, 2));
        gpu.attention(out.gpu, qkv.gpu, kv.gpu, 0, T, pos0, odd);
        cpu.attention(out.cpu, qkv.cpu, kv.cpu, 0, T, pos0, odd);
        await expectSame(out, T, 1e-4);
        pos0 += T;
      }
    });

    it('throws context-overflow past the cache', () => {
      const g = checkedBackend(gpu);
      const kv = g.createKvCache(1, 8, cfg.Hkv * cfg.D);
      const qkv = g.createActivation(4, W);
      const out = g.createActivation(4, cfg.H * cfg.D);
      // the one message of checked-backend.ts, in tokens on every backend (this said "8 positions")
      expectGptError(() => g.attention(out, qkv, kv, 0, 4, 6, cfg), 'context-overflow', '6 .. 9', '8 tokens');
    });
  });

  describe('WebGPU elementwise ops', () => {
    it('gelu (tanh) matches the CPU, large inputs included', async () => {
      const xs = values(5 * 24, 60, 4);
      xs[0] = 60;
      xs[1] = -60;
      const inp = twinAct(5, 24, xs);
      const out = twinAct(5, 24);
      gpu.gelu(out.gpu, inp.gpu, 5);
      cpu.gelu(out.cpu, inp.cpu, 5);
      const got = await expectSame(out, 5, 1e-5);
      expect(got[0]).toBeCloseTo(60, 4);
    });

    for (const [T, F, dtype] of [[5, 24, 'f16'], [1, 24, 'f16'], [1, 37, 'f32'], [1, 300, 'bf16']] as const) {
      it(`swiglu matches the CPU (T=${T}, F=${F}, ${dtype}${T === 1 ? ': one gated matvec' : ''})`, async () => {
        const I = 32;
        const w = twinWeight('mlp.gate_up', 2 * F, I, dtype, values(2 * F * I, 61 + F));
        const inp = twinAct(T, I, values(T * I, 62, 2));
        const out = twinAct(T, F);
        const scratch = twinAct(T, 2 * F);
        const before = gpu.dispatchCount;
        gpu.swiglu(out.gpu, inp.gpu, w.gpu, scratch.gpu, T);
        if (T === 1) expect(gpu.dispatchCount - before).toBe(1);
        cpu.swiglu(out.cpu, inp.cpu, w.cpu, scratch.cpu, T);
        await expectSame(out, T, 1e-5);
      });
    }

    it('readArgmax finds the largest of row 0 as the CPU does: ties to the lowest index, NaN never wins', async () => {
      const cases: [string, Float32Array][] = [
        ['random, 50021 wide', values(50021, 65, 8)],
        ['a tie', Float32Array.from({ length: 300 }, (_, i) => (i === 7 || i === 290 ? 5 : i % 3))],
        ['NaN around the top', Float32Array.from({ length: 700 }, (_, i) => (i % 5 === 0 ? NaN : i === 600 ? 9 : -i))],
        ['NaN first', Float32Array.from({ length: 3 }, (_, i) => [NaN, -2, -1][i])],
        ['+Infinity', Float32Array.from({ length: 1000 }, (_, i) => (i === 999 || i === 998 ? Infinity : 0))],
        ['all -Infinity', new Float32Array(40).fill(-Infinity)],
        ['one value', Float32Array.of(-3)],
      ];
      for (const [name, row] of cases) {
        const a = twinAct(2, row.length, Float32Array.from([...row, ...row.map(() => 1e30)])); // row 1 is never read
        const [got, want] = [await gpu.readArgmax(a.gpu), await cpu.readArgmax(a.cpu)];
        expect(got, name).toEqual(want);
      }
      expect(await cpu.readArgmax(twinAct(1, 300, Float32Array.from({ length: 300 }, (_, i) => (i === 7 || i === 290 ? 5 : i % 3))).cpu)).toEqual({ index: 7, value: 5 });
    });

    it('addInPlace adds T rows only', async () => {
      const out = twinAct(5, 24, values(120, 62));
      const inp = twinAct(5, 24, values(120, 63));
      gpu.addInPlace(out.gpu, inp.gpu, 3);
      cpu.addInPlace(out.cpu, inp.cpu, 3);
      await expectSame(out, 5, 1e-6);
    });

    it('copyRows copies the asked rows to the top', async () => {
      const inp = twinAct(5, 24, values(120, 64));
      const out = twinAct(2, 24);
      gpu.copyRows(out.gpu, inp.gpu, 3, 2);
      cpu.copyRows(out.cpu, inp.cpu, 3, 2);
      await expectSame(out, 2, 0);
    });
  });
});

/** A one-layer Llama-style block on backend `b`: the op order of model/forward.ts. */
function tinyModel(b: Backend, cfg: ModelConfig, Tmax: number) {
  const { C, H, Hkv, D, F, V } = cfg;
  const W = (H + 2 * Hkv) * D;
  const weight = (name: string, rows: number, cols: number, dtype: FloatDType, seed: number) => {
    const w = b.createWeight(name, rows, cols, dtype);
    b.writeWeight(w, 0, bytesOf(values(rows * cols, seed), dtype));
    return w;
  };
  const tok = weight('wte', V, C, 'bf16', 70); // (V, C), also the tied head
  const norm = weight('norm', 1, C, 'f32', 71); // (1, C)
  const wqkv = weight('wqkv', W, C, 'f16', 72); // (W, C)
  const bqkv = weight('bqkv', 1, W, 'f16', 76); // (1, W)
  const wo = weight('wo', C, H * D, 'f16', 73); // (C, H D)
  const wUp = weight('wUp', 2 * F, C, 'f16', 74); // (2F, C) [gate | up]
  const wDown = weight('wDown', C, F, 'f16', 75); // (C, F)
  const x = b.createActivation(Tmax, C);
  const xb = b.createActivation(Tmax, C);
  const qkv = b.createActivation(Tmax, W);
  const att = b.createActivation(Tmax, H * D);
  const proj = b.createActivation(Tmax, C);
  const up = b.createActivation(Tmax, 2 * F);
  const hidden = b.createActivation(Tmax, F);
  const last = b.createActivation(1, C);
  const logits = b.createActivation(Tmax, V);
  const kv = b.createKvCache(1, 64, Hkv * D);
  /** Runs T tokens at pos0 and returns the last token's logits (V). */
  return async (ids: Int32Array, T: number, pos0: number): Promise<Float32Array> => {
    b.embed(x, ids, T, tok, null, pos0);
    b.rmsNorm(xb, x, norm, T, 1e-5);
    b.matmul(qkv, xb, wqkv, bqkv, T);
    b.attention(att, qkv, kv, 0, T, pos0, cfg);
    b.matmul(proj, att, wo, null, T);
    b.addInPlace(x, proj, T);
    b.rmsNorm(xb, x, norm, T, 1e-5);
    b.swiglu(hidden, xb, wUp, up, T);
    b.matmul(proj, hidden, wDown, null, T);
    b.addInPlace(x, proj, T);
    b.copyRows(last, x, T - 1, 1);
    b.rmsNorm(xb, last, norm, 1, 1e-5);
    b.matmul(logits, xb, tok, null, 1);
    const into = new Float32Array(V);
    await b.read(logits, 1, into);
    return into;
  };
}

forEachStyle(() => {
  describe('WebGPU ops composed', () => {
    it('match the CPU over prefill and decode steps and create no buffer after warm-up', async () => {
      const cfg = config({ L: 1 });
      const b = new WebGpuBackend(device, { kernels: style });
      try {
        const onGpu = tinyModel(b, cfg, 5);
        const onCpu = tinyModel(cpu, cfg, 5);
        const step = async (ids: number[], pos0: number) => {
          const T = ids.length;
          const got = await onGpu(Int32Array.from(ids), T, pos0);
          const want = await onCpu(Int32Array.from(ids), T, pos0);
          for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `logit ${i} at pos0 ${pos0}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i])));
          expect(got.some((v) => v !== 0)).toBe(true);
        };
        // warm-up: one prefill and one decode step
        await step([1, 2, 3, 4, 5], 0);
        await step([6], 5);

        let created = 0;
        const original = device.createBuffer;
        device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
          created++;
          return original.call(this, descriptor);
        };
        try {
          await step([7, 8, 9], 6);
          for (let pos = 9; pos < 13; pos++) await step([pos], pos);
        } finally {
          device.createBuffer = original;
        }
        expect(created).toBe(0);
      } finally {
        b.destroy();
      }
    });
  });
});

describe('WebGPU kernel style and memory', () => {
  it('runs the serial kernels on a CPU-backed adapter unless told otherwise', () => {
    // This machine's Dawn runs on SwiftShader.
    expect(isCpuBackedDevice(device)).toBe(true);
    expect(new WebGpuBackend(device).kernels).toBe('serial');
    const chosen = new WebGpuBackend(device, { kernels: 'cooperative' });
    expect(chosen.kernels).toBe('cooperative');
    chosen.destroy();
  });

  it('counts the GPU bytes it allocates and frees them on destroy', () => {
    const b = new WebGpuBackend(device);
    try {
      const before = b.bytesAllocated;
      b.createActivation(3, 10); // 120 bytes, rounded up to 128
      expect(b.bytesAllocated - before).toBe(128);
      b.createWeight('w', 8, 6, 'f16'); // 96 bytes
      expect(b.bytesAllocated - before).toBe(128 + 96);
      b.createKvCache(2, 4, 8); // 2 layers x (k, v) x 128 bytes
      expect(b.bytesAllocated - before).toBe(128 + 96 + 512);
    } finally {
      b.destroy();
    }
    expect(b.bytesAllocated).toBe(0);
  });
});

describe('WebGPU errors', () => {
  it('reports a WGSL mistake with its file and line', async () => {
    const cache = new PipelineCache(device);
    const broken: Kernel = { file: 'broken.wgsl', code: 'fn main() {\n  let x: u32 = 1.5;\n}\n', bindings: ['uniform'], preludes: [], folds: false, constants: {}, perWorkgroup: [1, 1] };
    device.pushErrorScope('validation');
    cache.pipeline(broken);
    expect(await device.popErrorScope()).not.toBeNull();
    const errors = await cache.compileErrors();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^broken\.wgsl:2:\d+ /);
  });

  it('counts lines through every helper prepended to a kernel, naming the file a mistake is in', async () => {
    // as kernels.ts composes the sampling kernels: two helpers, then the kernel's own source
    const first = 'const A = 1u;\nconst B = 2u;\n'; // 3 lines with the newline that joins it
    const second = (body: string) => `fn helper() {\n${body}\n}\n`; // 4 lines
    const main = (body: string) => `@compute @workgroup_size(1)\nfn main() {\n${body}\n}\n`;
    const preludes = [
      { file: 'float-key.wgsl', lines: 3 },
      { file: 'sample-common.wgsl', lines: 4 },
    ] as const;
    const errorsOf = async (helperBody: string, mainBody: string) => {
      const cache = new PipelineCache(device);
      const code = [first, second(helperBody), main(mainBody)].join('\n');
      const kernel: Kernel = { file: 'two-helpers.wgsl', code, bindings: [], preludes, folds: false, constants: {}, perWorkgroup: [1, 1] };
      device.pushErrorScope('validation');
      cache.pipeline(kernel);
      await device.popErrorScope();
      return cache.compileErrors();
    };
    expect((await errorsOf('  let y: u32 = 2.5;', '  let x = A + B;'))[0]).toMatch(/^sample-common\.wgsl:2:\d+ /);
    expect((await errorsOf('  let y = A;', '  let x: u32 = 1.5;'))[0]).toMatch(/^two-helpers\.wgsl:3:\d+ /);
  });
});

describe('WebGPU device loss', () => {
  it('throws device-lost from every op once the device is gone', async () => {
    const own = { device: await acquireDevice({ gpu: nodeGpu }) };
    const b = new WebGpuBackend(own.device);
    const a = b.createActivation(2, 8);
    const c = b.createActivation(2, 8);
    expect(b.lost).toBe(false);
    own.device.destroy();
    await own.device.lost;
    await Promise.resolve(); // the backend's own lost handler runs after ours
    expect(b.lost).toBe(true);
    expectGptError(() => b.gelu(a, c, 2), 'device-lost', 'The GPU device was lost', 'Load the model again');
    await expect(b.read(a, 2, new Float32Array(16))).rejects.toMatchObject({ code: 'device-lost' });
    await expect(b.flush()).rejects.toMatchObject({ code: 'device-lost' });
  });
});
