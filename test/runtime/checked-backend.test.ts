import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/runtime/backend.ts';
import { checkedBackend, type CheckedBackend } from '../../src/runtime/checked-backend.ts';
import { CpuBackend } from '../../src/runtime/cpu/cpu-backend.ts';
import { GptError } from '../../src/errors.ts';
import { Sampler, type SamplerOptions } from '../../src/runtime/sampler.ts';
import { acquireDevice } from '../../src/runtime/webgpu/device.ts';
import { nodeGpu } from '../../src/runtime/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../../src/runtime/webgpu/webgpu-backend.ts';
import { llamaConfig } from '../helpers/llama-config.ts';

// The Backend contract is checked in one place (checked-backend.ts): every fault below must give
// the same code and the same message on the CPU and on WebGPU (Dawn on SwiftShader here).

const cfg = llamaConfig({ C: 8, H: 2, Hkv: 1, D: 4 }); // W = (H + 2 Hkv) D = 16

let device: GPUDevice;
const made: CheckedBackend[] = [];

beforeAll(async () => {
  device = await acquireDevice({ gpu: nodeGpu });
});

afterAll(() => {
  for (const b of made) b.destroy();
  device?.destroy();
});

const kinds = {
  cpu: () => checkedBackend(new CpuBackend()),
  webgpu: () => checkedBackend(new WebGpuBackend(device)),
};

function backend(kind: keyof typeof kinds): CheckedBackend {
  const b = kinds[kind]();
  made.push(b);
  return b;
}

/** The tensors of one small Llama block on `b`: C 8, H 2, Hkv 1, D 4, W (H + 2 Hkv) D = 16. */
function tensors(b: Backend) {
  const w = b.createWeight('blk.0.wqkv', 16, 8, 'f32'); // (W, C)
  const norm = b.createWeight('blk.0.norm', 1, 8, 'f32'); // (1, C)
  const tok = b.createWeight('wte', 6, 8, 'f32'); // (V, C)
  const pos = b.createWeight('wpe', 4, 8, 'f32'); // (4, C) learned positions
  const x = b.createActivation(2, 8); // (T, C)
  const y = b.createActivation(2, 8); // (T, C)
  const qkv = b.createActivation(2, 16); // (T, W)
  const att = b.createActivation(2, 8); // (T, H D)
  const kv = b.createKvCache(1, 4, 4); // (L, S, Hkv D)
  return { w, norm, tok, pos, x, y, qkv, att, kv };
}

type Tensors = ReturnType<typeof tensors>;

/** Each fault of the contract, as a call on a backend and its tensors. */
const FAULTS: Record<string, (b: Backend, t: Tensors) => unknown> = {
  'T = 0': (b, t) => b.addInPlace(t.x, t.y, 0),
  'T past the rows allocated': (b, t) => b.rmsNorm(t.y, t.x, t.norm, 3, 1e-5),
  'a fractional T': (b, t) => b.gelu(t.y, t.x, 1.5),
  'out is the input': (b, t) => b.addInPlace(t.x, t.x, 1),
  'a matmul input of the wrong width': (b, t) => b.matmul(t.qkv, t.qkv, t.w, null, 1),
  'a matmul output of the wrong width': (b, t) => b.matmul(t.x, t.y, t.w, null, 1),
  'a bias of the wrong length': (b, t) => b.matmul(t.qkv, t.x, t.w, t.norm, 1),
  'a norm weight that is not (1, C)': (b, t) => b.rmsNorm(t.y, t.x, t.tok, 1, 1e-5),
  'a token id past the vocabulary': (b, t) => b.embed(t.x, Int32Array.from([0, 6]), 2, t.tok, null, 0),
  'fewer ids than T': (b, t) => b.embed(t.x, Int32Array.from([0]), 2, t.tok, null, 0),
  'a negative pos0': (b, t) => b.attention(t.att, t.qkv, t.kv, 0, 1, -1, cfg),
  'positions past the learned ones': (b, t) => b.embed(t.x, Int32Array.from([0, 1]), 2, t.tok, t.pos, 3),
  'positions past the context window': (b, t) => b.attention(t.att, t.qkv, t.kv, 0, 2, 3, cfg),
  'a layer past the KV cache': (b, t) => b.attention(t.att, t.qkv, t.kv, 1, 1, 0, cfg),
  'H not a multiple of Hkv': (b, t) => b.attention(t.att, t.qkv, t.kv, 0, 1, 0, { ...cfg, H: 3, Hkv: 2 }),
  'rope without D/2 frequencies': (b, t) => b.attention(t.att, t.qkv, t.kv, 0, 1, 0, { ...cfg, ropeInvFreq: new Float32Array(3) }),
  'a swiglu weight not twice the output': (b, t) => b.swiglu(t.qkv, t.x, t.w, t.y, 1),
  'a swiglu scratch that is the input': (b, t) => b.swiglu(t.y, t.x, t.w, t.x, 1),
  'copyRows past the input': (b, t) => b.copyRows(t.y, t.x, 1, 2),
  'a weight shape of 0 rows': (b) => b.createWeight('wte', 0, 8, 'f32'),
  'an unknown dtype': (b) => b.createWeight('wte', 2, 8, 'q4' as never),
  'a write of partial elements': (b, t) => b.writeWeight(t.w, 0, new Uint8Array(6)),
  'a write past the end': (b, t) => b.writeWeight(t.norm, 6, new Uint8Array(12)),
  'an activation of 0 columns': (b) => b.createActivation(2, 0),
};

function caught(fn: () => unknown): GptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GptError);
    return err as GptError;
  }
  throw new Error('expected a GptError');
}

describe('the Backend contract, checked once for every backend', () => {
  for (const [fault, call] of Object.entries(FAULTS)) {
    it(`${fault}: the same code and message on the CPU and on WebGPU`, () => {
      const [cpu, gpu] = [backend('cpu'), backend('webgpu')];
      const onCpu = caught(() => call(cpu, tensors(cpu)));
      const onGpu = caught(() => call(gpu, tensors(gpu)));
      expect(onGpu.code).toBe(onCpu.code);
      expect(onGpu.message.replace(/webgpu/g, 'cpu')).toBe(onCpu.message);
      expect(onCpu.code).toMatch(/^(bad-argument|bad-config|context-overflow|bad-tensor-shape|unsupported-dtype)$/);
    });
  }

  it('gives each fault its own code: overflow, config, shape, dtype', () => {
    const b = backend('cpu');
    const t = tensors(b);
    const code = (fault: string) => caught(() => FAULTS[fault](b, t)).code;
    expect(code('T = 0')).toBe('bad-argument');
    expect(code('positions past the context window')).toBe('context-overflow');
    expect(code('positions past the learned ones')).toBe('context-overflow');
    expect(code('H not a multiple of Hkv')).toBe('bad-config');
    expect(code('a write past the end')).toBe('bad-tensor-shape');
    expect(code('an unknown dtype')).toBe('unsupported-dtype');
  });

  it("refuses another backend's tensors, naming the op and the argument", () => {
    const a = backend('cpu');
    const b = backend('cpu');
    const ta = tensors(a);
    const tb = tensors(b);
    const e = caught(() => a.addInPlace(ta.x, tb.y, 1));
    expect(e.code).toBe('bad-argument');
    expect(e.message).toMatch(/^addInPlace: 'inp' was not created by this cpu backend/);
    // and an unchecked backend's own tensors: only what went through the wrapper is known
    const raw = new CpuBackend();
    expect(caught(() => a.gelu(ta.y, raw.createActivation(2, 8), 1)).message).toContain("'inp' was not created");
    raw.destroy();
  });

  it('forwards what passes and runs nothing that fails', async () => {
    const b = backend('cpu');
    const t = tensors(b);
    const into = new Float32Array(16);
    await expect(b.read(t.x, 0, into)).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(b.read(t.x, 2, new Float32Array(15))).rejects.toThrow(/'into' holds 15 floats, 2 rows of 8 need 16/);
    b.embed(t.x, Int32Array.from([1, 2]), 2, t.tok, null, 0);
    await b.read(t.x, 2, into);
    expect(Array.from(into)).toEqual(new Array(16).fill(0)); // the zero table, really run
    expect(() => b.embed(t.x, Int32Array.from([1, 7]), 2, t.tok, null, 0)).toThrow(/token id 7 at row 1/);
  });

  describe('readSample refuses what only readArgmax or the CPU sampler can do', () => {
    const GREEDY = 'readSample: the sampler is greedy or has a repetition penalty; use readArgmax, or read the logits and call sampler.sample.';
    const refusals: [string, SamplerOptions, number, string][] = [
      ['a greedy sampler (temperature 0)', { temperature: 0 }, 0.5, GREEDY],
      ['a repetition penalty', { temperature: 0.8, repetitionPenalty: 1.2 }, 0.5, GREEDY],
      ['a greedy sampler with a penalty', { temperature: 0, repetitionPenalty: 1.2 }, 0.5, GREEDY],
      ['random = 1', { temperature: 1 }, 1, 'readSample: random is 1; expected a uniform number in [0, 1).'],
      ['a negative random', { temperature: 1 }, -0.25, 'readSample: random is -0.25; expected a uniform number in [0, 1).'],
      ['a NaN random', { temperature: 1 }, NaN, 'readSample: random is NaN; expected a uniform number in [0, 1).'],
    ];
    for (const kind of ['cpu', 'webgpu'] as const) {
      for (const [what, options, random, message] of refusals) {
        it(`${kind}: ${what} is bad-argument`, async () => {
          const b = backend(kind);
          const logits = b.createActivation(1, 6); // (1, V) zeros: any sampler could draw from them
          await expect(b.readSample(logits, new Sampler(options), random)).rejects.toMatchObject({ name: 'GptError', code: 'bad-argument', message });
        });
      }
      it(`${kind}: the same logits pass with a sampling sampler and random in [0, 1)`, async () => {
        const b = backend(kind);
        const logits = b.createActivation(1, 6); // six equal logits: random 0.5 draws id 3 of 0..5
        expect(await b.readSample(logits, new Sampler({ temperature: 1 }), 0)).toBe(0);
        expect(await b.readSample(logits, new Sampler({ temperature: 1 }), 0.5)).toBe(3);
      });
    }
  });

  it('refuses every call after destroy with disposed, and destroys once', async () => {
    const b = backend('webgpu');
    const t = tensors(b);
    b.destroy();
    b.destroy();
    expect(caught(() => b.gelu(t.y, t.x, 1)).code).toBe('disposed');
    expect(caught(() => b.createActivation(1, 1)).code).toBe('disposed');
    await expect(b.read(t.x, 1, new Float32Array(8))).rejects.toMatchObject({ code: 'disposed' });
    await expect(b.flush()).rejects.toMatchObject({ code: 'disposed' });
  });
});
