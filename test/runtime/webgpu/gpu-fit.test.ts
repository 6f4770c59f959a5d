// Whether a model can run on a WebGPU device at all (src/runtime/webgpu/gpu-fit.ts): the run
// state's buffers against one storage binding, from the config alone. Then the runtime on Dawn:
// 'webgpu' refuses such a model before it reads a weight, 'auto' runs it on the CPU and says why.
// Dawn binds 1 GiB; the smaller bindings of other adapters are played by a named stand-in
// (test/helpers/dawn-gpu.ts bindingLimit).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles } from '../../../src/node.ts';
import { parseModelConfig } from '../../../src/runtime/model/hf-config.ts';
import { CONFIG_MAXIMA } from '../../../src/runtime/model/config-limits.ts';
import { gpuFitError, gpuFitProblem, SPEC_MIN_BINDING_BYTES, WIDEST_WEIGHT_ROW_BYTES } from '../../../src/runtime/webgpu/gpu-fit.ts';
import type { ModelFiles } from '../../../src/formats/model-files.ts';
import { bindingLimit, dawnGpu } from '../../helpers/dawn-gpu.ts';

const GiB = 1024 ** 3;
const config = (dir: string) => parseModelConfig(readFileSync(`test/fixtures/generated/${dir}/config.json`, 'utf8'));
const limits = (bytes: number, maxBufferSize = bytes) => ({ maxStorageBufferBindingSize: bytes, maxBufferSize });

describe('gpuFitProblem', () => {
  it('a small model fits the spec-minimum binding', () => {
    expect(gpuFitProblem(config('llama'), limits(SPEC_MIN_BINDING_BYTES))).toBeNull();
  });

  it('a KV cache layer above the binding: names it with its bytes, and the longest context that fits', () => {
    const cfg = config('gpu-misfit'); // 1 layer, 768 kv heads of 256, 2048 positions
    const problem = gpuFitProblem(cfg, limits(GiB))!;
    expect(problem.buffers).toEqual([{ what: 'one layer of the KV cache (2048 positions x 196608 floats)', bytes: 2048 * 196608 * 4 }]);
    expect(problem).toMatchObject({ limit: GiB, limitName: 'maxStorageBufferBindingSize', contextThatFits: 1365 });
    expect(gpuFitProblem(cfg, limits(GiB), { contextLength: 1365 })).toBeNull(); // the hint is right
    expect(gpuFitProblem(cfg, limits(GiB), { contextLength: 1366 })).not.toBeNull();
    const message = gpuFitError(problem).message;
    expect(message).toContain('one layer of the KV cache (2048 positions x 196608 floats) needs 1.5 GiB (1610612736 bytes)');
    expect(message).toContain('binds at most 1.0 GiB (1073741824 bytes) as one buffer (its maxStorageBufferBindingSize)');
    expect(message).toMatch(/Hint: use engine="auto" or engine="cpu".*contextLength of at most 1365 tokens\.$/);
  });

  it('logits above the binding: a shorter context does not help, so it is not offered', () => {
    const cfg = { ...config('llama'), V: 600_000 }; // 64 tokens x 600000 x 4 = 146 MiB > 128 MiB
    const problem = gpuFitProblem(cfg, limits(SPEC_MIN_BINDING_BYTES))!;
    expect(problem.buffers.map((b) => b.what)).toEqual(['the logits (64 x 600000 floats)']);
    expect(problem.contextThatFits).toBeNull();
    expect(gpuFitError(problem).message).not.toContain('contextLength');
  });

  it('the rotary table is sized by the model\'s maximum positions, whatever the context', () => {
    const cfg = { ...config('llama'), maxPositions: 1 << 22, ropeInvFreq: new Float32Array(64) }; // 4M x 64 x 8 = 2 GiB
    const problem = gpuFitProblem(cfg, limits(GiB), { contextLength: 256 })!;
    expect(problem.buffers[0]!.what).toMatch(/^the rotary table \(4194304 positions/);
    expect(problem.contextThatFits).toBeNull();
  });

  it('maxBufferSize below the binding size is the limit that counts', () => {
    const problem = gpuFitProblem(config('gpu-misfit'), limits(2 * GiB, GiB))!;
    expect(problem).toMatchObject({ limit: GiB, limitName: 'maxBufferSize' });
  });

  it('no weight row of a config within CONFIG_MAXIMA exceeds the smallest binding any adapter has', () => {
    // gpuFitProblem skips the weights on this ground; raising CONFIG_MAXIMA past it needs a row check.
    expect(WIDEST_WEIGHT_ROW_BYTES).toBe(4 * (CONFIG_MAXIMA.H + 2 * CONFIG_MAXIMA.Hkv) * CONFIG_MAXIMA.D);
    expect(WIDEST_WEIGHT_ROW_BYTES).toBeLessThanOrEqual(SPEC_MIN_BINDING_BYTES);
  });
});

/** The llama fixture, with every file it opens (weights) written down. */
function countedFiles(opened: string[]): ModelFiles {
  const files = nodeModelFiles('test/fixtures/generated/llama');
  return { location: files.location, has: (n) => files.has(n), text: (n) => files.text(n), open: (n, s) => (opened.push(n), files.open(n, s)) };
}

// llama fixture: S 256, Tmax 64; its logits (64 x 389 floats, 99584 bytes) are its largest buffer.
const SMALL_BINDING = 64 * 1024;

describe('the runtime on a device whose bindings the run state does not fit', () => {
  it("engine webgpu: gpu-out-of-memory before any weight is read", async () => {
    const opened: string[] = [];
    const gpu = dawnGpu({ onDevice: bindingLimit(SMALL_BINDING) });
    const error = await loadLanguageModel(countedFiles(opened), { backend: 'webgpu', device: { gpu } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gpu-out-of-memory', message: expect.stringContaining('the logits (64 x 389 floats) needs 0.1 MiB (99584 bytes)') });
    expect(opened).toEqual([]);
  });

  it('engine auto: the CPU, with the reason and a notice', async () => {
    const gpu = dawnGpu({ onDevice: bindingLimit(SMALL_BINDING) });
    const lm = await loadLanguageModel(countedFiles([]), { backend: 'auto', cpuBacked: () => false, device: { gpu } });
    try {
      expect(lm.backendKind).toBe('cpu');
      expect(lm.backendReason).toMatch(/^too large for this GPU: the logits \(64 x 389 floats\) needs 0.1 MiB, above the 0.1 MiB this GPU binds as one buffer/);
      expect(lm.notice).toMatch(/cannot run on this GPU with WebGPU .*, so it runs on the CPU \(slower\)\./);
      let n = 0;
      for await (const _ of lm.generate('hello', { maxTokens: 2, temperature: 0 })) n++;
      expect(n).toBeGreaterThan(0);
    } finally {
      lm.dispose();
    }
  });

  it("the same model on Dawn's own 1 GiB binding loads on the GPU", async () => {
    const lm = await loadLanguageModel(countedFiles([]), { backend: 'webgpu', device: { gpu: dawnGpu() } });
    try {
      expect(lm.backendKind).toBe('webgpu');
    } finally {
      lm.dispose();
    }
  });
});
