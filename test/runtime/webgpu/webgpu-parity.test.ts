import { describe, expect, it, vi } from 'vitest';
import { Sampler } from '../../../src/runtime/sampler.ts';
import { loadLanguageModel, nodeGpu, nodeModelFiles } from '../../../src/node.ts';
import { PARITY_FIXTURES, runParity, scoreWithAndWithoutCache, seededIds } from '../../helpers/parity-cases.ts';

const files = (name: string) => () => nodeModelFiles(`test/fixtures/generated/${name}`);

/** `n` ids chosen by `sampler` from each step's whole logits row (the path that reads every logit back). */
async function idsFromWholeLogits(lm: Awaited<ReturnType<typeof loadLanguageModel>>, prompt: number[], sampler: Sampler, n: number): Promise<number[]> {
  let logits = await lm.model.sync(prompt);
  const ids: number[] = [];
  while (ids.length < n) {
    ids.push(sampler.sample(logits));
    logits = await lm.model.decode(ids.at(-1)!);
  }
  return ids;
}

describe('WebGPU (Dawn) against the CPU reference', () => {
  for (const name of PARITY_FIXTURES) {
    it(`${name}: logits within 1e-3 after a 32-token prefill and over 64 greedy decode steps, same ids`, async () => {
      const r = await runParity(files(name), { gpu: nodeGpu });
      expect(r.prefillMaxAbs).toBeLessThan(1e-3);
      expect(r.decodeMaxAbs).toBeLessThan(1e-3);
      expect(r.gpuIds).toEqual(r.cpuIds);
    });
  }

  it('scores a continuation on the GPU as teacher forcing without the cache', async () => {
    const lm = await loadLanguageModel(files('qwen2.5-0.5b')(), { backend: 'webgpu', prefillChunk: 4 });
    try {
      const r = await scoreWithAndWithoutCache(lm, seededIds(9, lm.config.V, 1), seededIds(6, lm.config.V, 2));
      r.perToken.forEach((v, i) => expect(Math.abs(v - r.bruteForce[i])).toBeLessThan(1e-3));
    } finally {
      lm.dispose();
    }
  });

  const SAMPLED = { temperature: 0.9, topK: 40, topP: 0.95, seed: 11 };

  for (const backend of ['webgpu', 'cpu'] as const) {
    it(`${backend}: sampled generation lets the backend pick each token after the first, never reading the logits; the sampler's ids from the full logits`, async () => {
      const lm = await loadLanguageModel(files('smollm2-bf16')(), { backend });
      try {
        const prompt = seededIds(12, lm.config.V, 4);
        const decode = vi.spyOn(lm.model, 'decode');
        const decodeSampled = vi.spyOn(lm.model, 'decodeSampled');
        const read = vi.spyOn(lm.model.backend, 'read');
        const ids: number[] = [];
        for await (const t of lm.generate({ ids: prompt }, { maxTokens: 20, ...SAMPLED })) if (t.id >= 0) ids.push(t.id);
        expect(ids.length).toBeGreaterThan(5);
        expect(decode).not.toHaveBeenCalled();
        expect(decodeSampled).toHaveBeenCalledTimes(ids.length);
        expect(read).toHaveBeenCalledTimes(1); // the prompt's logits, for the first token
        decode.mockRestore();
        // the same steps from the whole logits row of this backend, through the CPU sampler
        expect(ids).toEqual(await idsFromWholeLogits(lm, prompt, new Sampler(SAMPLED), ids.length));
      } finally {
        lm.dispose();
      }
    });
  }

  it('a seeded sampled generation gives the same ids on WebGPU and on the CPU', async () => {
    const run = async (backend: 'webgpu' | 'cpu') => {
      const lm = await loadLanguageModel(files('llama')(), { backend });
      try {
        const ids: number[] = [];
        for await (const t of lm.generate({ ids: seededIds(10, lm.config.V, 5) }, { maxTokens: 24, ...SAMPLED })) if (t.id >= 0) ids.push(t.id);
        return ids;
      } finally {
        lm.dispose();
      }
    };
    const gpuIds = await run('webgpu');
    expect(gpuIds.length).toBeGreaterThan(5);
    expect(gpuIds).toEqual(await run('cpu'));
  });

  for (const backend of ['webgpu', 'cpu'] as const) {
    it(`${backend}: greedy generation lets the backend pick each token after the first, the ids the full logits give`, async () => {
      const lm = await loadLanguageModel(files('smollm2-bf16')(), { backend });
      try {
        const prompt = seededIds(12, lm.config.V, 3);
        const decode = vi.spyOn(lm.model, 'decode');
        const decodeGreedy = vi.spyOn(lm.model, 'decodeGreedy');
        const ids: number[] = [];
        for await (const t of lm.generate({ ids: prompt }, { maxTokens: 20, temperature: 0 })) if (t.id >= 0) ids.push(t.id);
        expect(ids.length).toBeGreaterThan(5);
        expect(decode).not.toHaveBeenCalled();
        expect(decodeGreedy).toHaveBeenCalledTimes(ids.length);
        decode.mockRestore();
        // the same steps from the whole logits row, through the CPU sampler
        expect(ids).toEqual(await idsFromWholeLogits(lm, prompt, new Sampler({ temperature: 0 }), ids.length));
        // a repetition penalty changes the argmax: the sampler sees the logits
        decodeGreedy.mockClear();
        for await (const _ of lm.generate({ ids: prompt }, { maxTokens: 3, temperature: 0, repetitionPenalty: 1.3 })) void _;
        expect(decodeGreedy).not.toHaveBeenCalled();
      } finally {
        lm.dispose();
      }
    });
  }
});
