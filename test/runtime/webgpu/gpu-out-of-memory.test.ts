// A model that does not fit in GPU memory, on the real runtime over Dawn, with the memory limit
// played by a stand-in (test/helpers/dawn-gpu.ts memoryBudget: SwiftShader does not run out at a
// size this machine can afford). The error is caught where the buffer is created, before the
// first reply, and says how much the model needed; 'auto' runs it on the CPU instead, and says so.
import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles } from '../../../src/node.ts';
import { dawnGpu, memoryBudget } from '../../helpers/dawn-gpu.ts';

const files = () => nodeModelFiles('test/fixtures/generated/smollm2-135m');
const BUDGET = 64 * 1024; // bytes: the fixture's weights alone are ~300 kB

describe('GPU out of memory', () => {
  it('engine webgpu: a gpu-out-of-memory error at load that says how much the model needs', async () => {
    const error = await loadLanguageModel(files(), { backend: 'webgpu', device: { gpu: dawnGpu({ onDevice: memoryBudget(BUDGET) }) } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gpu-out-of-memory', message: expect.stringMatching(/needs about \d+ MiB of GPU memory.*allocating .* failed/) });
  });

  // SwiftShader is CPU-backed, so 'auto' would not try it at all: cpuBacked: () => false takes the
  // path 'auto' takes on a hardware GPU.
  it('engine auto: runs on the CPU with a notice, and answers', async () => {
    const lm = await loadLanguageModel(files(), { backend: 'auto', cpuBacked: () => false, device: { gpu: dawnGpu({ onDevice: memoryBudget(BUDGET) }) } });
    try {
      expect(lm.backendKind).toBe('cpu');
      expect(lm.notice).toMatch(/does not fit in this GPU's memory \(it needs about \d+ MiB\), so it runs on the CPU/);
      let n = 0;
      for await (const _ of lm.generate('hello', { maxTokens: 3, temperature: 0 })) n++;
      expect(n).toBeGreaterThan(0);
    } finally {
      lm.dispose();
    }
  });

  it('a model within the budget loads on the GPU (the stand-in lets real allocations through)', async () => {
    const lm = await loadLanguageModel(files(), { backend: 'webgpu', device: { gpu: dawnGpu({ onDevice: memoryBudget(1 << 30) }) } });
    try {
      expect(lm.backendKind).toBe('webgpu');
    } finally {
      lm.dispose();
    }
  });
});
