import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../../src/runtime/cpu/cpu-backend.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { Sampler, type SamplerOptions } from '../../../src/runtime/sampler.ts';
import { acquireDevice } from '../../../src/runtime/webgpu/device.ts';
import type { GpuActivation } from '../../../src/runtime/webgpu/gpu-tensors.ts';
import { nodeGpu } from '../../../src/runtime/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../../../src/runtime/webgpu/webgpu-backend.ts';

// The WebGPU sampling kernels (top-k-cut, top-p-cut, draw-token) against the CPU sampler: for the
// same logits, options and random number, the same token. Dawn runs on SwiftShader here.

let device: GPUDevice;
let gpu: WebGpuBackend; // the serial style SwiftShader gets: 4-thread sampling workgroups
let wide: WebGpuBackend; // the cooperative style of real GPUs: 256 threads

beforeAll(async () => {
  device = await acquireDevice({ gpu: nodeGpu });
  gpu = new WebGpuBackend(device, { kernels: 'serial' });
  wide = new WebGpuBackend(device, { kernels: 'cooperative' });
});

afterAll(() => {
  gpu?.destroy();
  wide?.destroy();
  device?.destroy();
});

const rows = new Map<string, GpuActivation>();

/** The token the GPU picks from `logits` (row 0 of a 2-row activation whose row 1 must not count). */
async function gpuPick(logits: Float32Array, sampler: Sampler, random: number, backend = gpu): Promise<number> {
  const name = `${backend.kernels} ${logits.length} ${logits[0]} ${logits.at(-1)}`;
  let act = rows.get(name);
  if (!act) {
    act = backend.createActivation(2, logits.length) as GpuActivation;
    device.queue.writeBuffer(act.buffer, 0, Float32Array.from([...logits, ...logits.map(() => 1e30)]));
    rows.set(name, act);
  }
  return backend.readSample(act, sampler, random);
}

type Row = (i: number, rng: Rng) => number;
const uniform = (scale: number): Row => (_, rng) => (rng.next() - 0.5) * scale;
const ROWS: [string, number, Row][] = [
  ['random, scale 4', 1000, uniform(4)],
  ['random, scale 30, 4099 wide', 4099, uniform(30)],
  ['V below the workgroup', 7, uniform(6)],
  ['V = workgroup + 1', 257, uniform(8)],
  ['one token', 1, () => 0.5],
  ['ties on four levels', 600, (_, rng) => Math.floor(rng.next() * 4)],
  ['all equal', 300, () => 1.25],
  ['-Infinity, NaN and very negative logits', 513, (i, rng) => [-Infinity, NaN, -1e30, -3e38, (rng.next() - 0.5) * 10][i % 5]!],
  ['one finite logit', 90, (i) => (i === 61 ? -3 : -Infinity)],
  ['a peaked row', 2000, (i, rng) => (i === 1500 ? 12 : rng.next() * 3)],
];
const OPTIONS: SamplerOptions[] = [
  { temperature: 1 },
  { temperature: 0.7, topK: 40 },
  { temperature: 1, topK: 1 },
  { temperature: 1.3, topK: 5, topP: 0.9 },
  { temperature: 0.05, topP: 0.5 },
  { temperature: 25, topP: 0.95 },
  { temperature: 1, topP: 1e-4 },
  { temperature: 0.9, topK: 100000 }, // above any V here
  { temperature: 1, topK: 3, topP: 0.6, minP: 0.2 },
  { temperature: 2, minP: 0.05 },
];

describe('sampling on WebGPU against the CPU sampler', () => {
  for (const [name, V, row] of ROWS) {
    it(`${name} (V = ${V}): the GPU picks the CPU sampler's token for every option set and random number`, async () => {
      const rng = new Rng(V);
      const logits = Float32Array.from({ length: V }, (_, i) => row(i, rng));
      const randoms = [0, 1 - 2 ** -32, ...Array.from({ length: 4 }, () => rng.next())];
      const wrong: string[] = [];
      for (const options of OPTIONS) {
        const sampler = new Sampler(options);
        for (const u of randoms) {
          const [got, want] = [await gpuPick(logits, sampler, u), sampler.pick(logits, u)];
          if (got !== want) wrong.push(`${JSON.stringify(options)} u=${u}: GPU ${got}, CPU ${want}`);
        }
        // 256-thread workgroups cost ~0.1 s a pick on SwiftShader: two draws each
        for (const u of randoms.slice(1, 3)) {
          const [got, want] = [await gpuPick(logits, sampler, u, wide), sampler.pick(logits, u)];
          if (got !== want) wrong.push(`cooperative ${JSON.stringify(options)} u=${u}: GPU ${got}, CPU ${want}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('a V = 32000 row with every filter (the llama vocabulary)', async () => {
    const rng = new Rng(32000);
    const logits = Float32Array.from({ length: 32000 }, () => (rng.next() - 0.5) * 16);
    const sampler = new Sampler({ temperature: 0.8, topK: 50, topP: 0.95, minP: 0.01 });
    for (let k = 0; k < 4; k++) {
      const u = rng.next();
      expect(await gpuPick(logits, sampler, u)).toBe(sampler.pick(logits, u));
    }
  });

  it('picks the +Infinity logit, and refuses a row without a number above -Infinity', async () => {
    const sampler = new Sampler({ temperature: 1, topP: 0.9 });
    const inf = Float32Array.from({ length: 40 }, (_, i) => (i === 33 || i === 35 ? Infinity : i));
    expect(await gpuPick(inf, sampler, 0.5)).toBe(33);
    expect(sampler.pick(inf, 0.5)).toBe(33);
    for (const dead of [new Float32Array(40).fill(-Infinity), new Float32Array(300).fill(NaN)]) {
      await expect(gpuPick(dead, sampler, 0.5)).rejects.toMatchObject({ code: 'internal' });
      expect(() => sampler.pick(dead, 0.5)).toThrow(/every logit/);
    }
  });

  it('the CPU backend picks as the sampler does', async () => {
    const cpu = new CpuBackend();
    try {
      const act = cpu.createActivation(1, 500);
      const rng = new Rng(3);
      const logits = Float32Array.from({ length: 500 }, () => (rng.next() - 0.5) * 8);
      (act as unknown as { data: Float32Array }).data.set(logits);
      const sampler = new Sampler({ temperature: 0.8, topK: 30, topP: 0.8 });
      for (const u of [0.1, 0.5, 0.9]) expect(await cpu.readSample(act, sampler, u)).toBe(sampler.pick(logits, u));
    } finally {
      cpu.destroy();
    }
  });
});
