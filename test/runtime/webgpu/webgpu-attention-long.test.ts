import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Backend, KvCache } from '../../../src/runtime/backend.ts';
import { CpuBackend } from '../../../src/runtime/cpu/cpu-backend.ts';
import { acquireDevice } from '../../../src/runtime/webgpu/device.ts';
import { KEYS_PER_SPLIT } from '../../../src/runtime/webgpu/kernels.ts';
import { nodeGpu } from '../../../src/runtime/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../../../src/runtime/webgpu/webgpu-backend.ts';
import { llamaConfig } from '../../helpers/llama-config.ts';

// Decode attention over a long KV cache, split across workgroups (flash-decoding:
// the attention kernels with SPLIT, then attention-combine.wgsl), against the CPU reference at positions past
// one split, at a ragged last split, and at 1100: both kernel styles, grouped-query heads, and a
// head size that is not a multiple of 4 (the serial style then takes the cooperative split).

let device: GPUDevice;
let cpu: CpuBackend;

beforeAll(async () => {
  device = await acquireDevice({ gpu: nodeGpu });
  cpu = new CpuBackend();
});

afterAll(() => {
  cpu?.destroy();
  device?.destroy();
});

// mulberry32, uniform in [-scale, scale)
function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  });
}

/** `xs` (rows, cols) as an activation of `b`, written through embed of an identity table. */
function activation(b: Backend, rows: number, cols: number, xs: Float32Array): Activation {
  const a = b.createActivation(rows, cols);
  const table = b.createWeight('values', rows, cols, 'f32');
  b.writeWeight(table, 0, new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength));
  b.embed(a, Int32Array.from({ length: rows }, (_, i) => i), rows, table, null, 0);
  return a;
}

for (const style of ['serial', 'cooperative'] as const) {
  describe(`long-context decode attention, ${style} kernels`, () => {
    // decode positions: just past one split (2 splits, the last of 1 key), ragged, and 1100; the
    // odd head size is filled by the slow cooperative kernels, so it stops earlier
    const cases = [
      { H: 6, Hkv: 2, D: 16, stops: [KEYS_PER_SPLIT, 1099, 1100] },
      { H: 2, Hkv: 1, D: 6, stops: [KEYS_PER_SPLIT, 520] },
    ];
    for (const { H, Hkv, D, stops } of cases) {
      it(`matches the CPU decoding at positions ${stops.join(', ')} (H ${H}, Hkv ${Hkv}, D ${D})`, async () => {
        const gpu = new WebGpuBackend(device, { kernels: style });
        // The cache is filled by prefill chunks through the serial kernels (the cooperative ones
        // crawl on SwiftShader); buffers of one device serve any backend on it.
        const filler = new WebGpuBackend(device, { kernels: 'serial' });
        try {
          const cfg = llamaConfig({ L: 1, C: H * D, H, Hkv, D, F: 8, V: 8, maxPositions: 2048 });
          const W = (H + 2 * Hkv) * D;
          const S = 1200;
          const kv: Record<'gpu' | 'cpu', KvCache> = { gpu: filler.createKvCache(1, S, Hkv * D), cpu: cpu.createKvCache(1, S, Hkv * D) };
          const chunk = 100;
          const out = { gpu: gpu.createActivation(1, H * D), cpu: cpu.createActivation(chunk, H * D) };
          const filled = filler.createActivation(chunk, H * D);
          let pos = 0;
          let seed = 1;
          // Fill the cache with prefill chunks (not split), then decode one token (split) at each
          // checkpoint. Rows grow with their position, so late keys hold larger scores and the
          // merge must rescale the early splits.
          for (const stop of stops) {
            while (pos < stop) {
              const T = Math.min(chunk, stop - pos);
              const xs = values(T * W, seed++, 1);
              for (let t = 0; t < T; t++) for (let j = 0; j < W; j++) xs[t * W + j] *= 1 + (pos + t) / 400;
              filler.attention(filled, activation(filler, T, W, xs), kv.gpu, 0, T, pos, cfg);
              cpu.attention(out.cpu, activation(cpu, T, W, xs), kv.cpu, 0, T, pos, cfg);
              pos += T;
            }
            await filler.flush();
            const q = values(W, seed++, 1 + pos / 400);
            gpu.attention(out.gpu, activation(gpu, 1, W, q), kv.gpu, 0, 1, pos, cfg);
            cpu.attention(out.cpu, activation(cpu, 1, W, q), kv.cpu, 0, 1, pos, cfg);
            const got = new Float32Array(H * D);
            const want = new Float32Array(H * D);
            await gpu.read(out.gpu, 1, got); // the decode's k and v land in the cache too

            await cpu.read(out.cpu, 1, want);
            let worst = 0;
            for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
            expect(worst, `decode at position ${pos}`).toBeLessThan(1e-4);
            pos += 1;
          }
        } finally {
          gpu.destroy();
          filler.destroy();
        }
      });
    }
  });
}
