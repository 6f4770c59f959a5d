// A GPU device lost mid-reply, on the real engine (InPageEngine, the code the worker runs) over the
// real runtime on Dawn: `device.destroy()` while tokens stream. The loader reads the model folder
// from disk instead of the IndexedDB cache (Node has none); it is the runtime's own loader, and
// it counts its calls, so the test sees the reload.
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/engine/engine.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import type { ModelLoader } from '../../src/engine/load-model.ts';
import { loadLanguageModel, nodeModelFiles } from '../../src/node.ts';
import { dawnGpu } from '../helpers/dawn-gpu.ts';

/** The runtime's loader over a fixture folder on disk, counting its calls. */
function diskLoader(devices: GPUDevice[], gone?: { gpu: boolean }): ModelLoader & { calls: number } {
  const load: ModelLoader = async (spec, _onProgress, signal) => {
    loader.calls++;
    const model = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/smollm2-135m'), {
      backend: spec.engine === 'webgpu' ? 'webgpu' : 'auto',
      // 'auto' sends SwiftShader (CPU-backed) to the CPU path; taken as a hardware GPU here so
      // that 'auto' starts on WebGPU and the GPU can be lost.
      cpuBacked: () => false,
      device: { gpu: dawnGpu({ onDevice: (d) => (devices.push(d), d), ...(gone ? { gone } : {}) }) },
      signal,
    });
    return { model, fromCache: loader.calls > 1 };
  };
  const loader = Object.assign(load, { calls: 0 });
  return loader;
}

describe('device lost during generation (real engine, Dawn)', () => {
  it('ends the reply with device-lost, drops the model, and the next request reloads and answers', async () => {
    const devices: GPUDevice[] = [];
    const loader = diskLoader(devices);
    const engine = new InPageEngine(loader);
    try {
      const info = await engine.load({ url: 'http://x/smollm2/', engine: 'webgpu' });
      expect(info.backend).toBe('webgpu');
      const first = devices.at(-1)!;

      const events: EngineEvent[] = [];
      const error = await (async () => {
        for await (const e of engine.chat([{ role: 'user', content: 'hello there' }], { maxTokens: 40, temperature: 0 })) {
          events.push(e);
          if (events.length === 3) first.destroy();
        }
      })().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'device-lost', message: expect.stringMatching(/press Retry/) });
      expect(events.filter((e) => e.type === 'token').length).toBeLessThan(40);
      expect(loader.calls).toBe(1);

      // Retry: the next request loads the model again on a new device and answers.
      const retry: EngineEvent[] = [];
      for await (const e of engine.chat([{ role: 'user', content: 'hello there' }], { maxTokens: 5, temperature: 0 })) retry.push(e);
      expect(loader.calls).toBe(2);
      expect(devices.length).toBe(2);
      expect(devices[1]).not.toBe(first);
      expect(retry.at(-1)).toMatchObject({ type: 'done', generatedTokens: expect.any(Number) });
      expect(retry.filter((e) => e.type === 'token').length).toBeGreaterThan(0);
    } finally {
      engine.dispose();
      for (const d of devices) d.destroy();
    }
  });

  it('with engine auto and no GPU left, the next request runs on the CPU and says so', async () => {
    const devices: GPUDevice[] = [];
    const gone = { gpu: false };
    const engine = new InPageEngine(diskLoader(devices, gone));
    try {
      expect((await engine.load({ url: 'http://x/smollm2/' })).backend).toBe('webgpu');
      let n = 0;
      const error = await (async () => {
        for await (const e of engine.chat([{ role: 'user', content: 'hi' }], { maxTokens: 40, temperature: 0 })) {
          if (e.type === 'token' && ++n === 2) {
            gone.gpu = true;
            devices[0]!.destroy();
          }
        }
      })().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'device-lost' });
      const retry: EngineEvent[] = [];
      for await (const e of engine.chat([{ role: 'user', content: 'hi' }], { maxTokens: 3, temperature: 0 })) retry.push(e);
      expect(retry.at(-1)).toMatchObject({ type: 'done' });
      const info = await engine.load({ url: 'http://x/smollm2/' }); // the reloaded model's info
      expect(info).toMatchObject({ backend: 'cpu', notice: expect.stringMatching(/runs on the CPU/) });
    } finally {
      engine.dispose();
      for (const d of devices) d.destroy();
    }
  });
});
