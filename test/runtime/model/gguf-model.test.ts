import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel } from '../../../src/node.ts'; // Dawn for 'webgpu'
import { maxAbsDiff, seededIds } from '../../helpers/parity-cases.ts';

// The GGUF twins of the fixtures (tools/hf-to-gguf.mjs, as llama.cpp's converter writes them:
// llama q/k rows permuted, GPT-2 Conv1D transposed, Llama 3 scaling as rope_freqs.weight, norms in
// F32) hold the same weights as the safetensors folders, so the two must run identically.
const TWINS = [
  ['gpt2', 'F32'],
  ['smollm2-135m', 'F32'],
  ['smollm2-bf16', 'BF16'],
  ['qwen2.5-0.5b', 'F32'],
  ['qwen2-f16', 'F16'],
  ['tinyllama', 'F32'],
  ['llama', 'F32'],
] as const;

async function greedy(lm: LanguageModel, prompt: number[], n: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of lm.generate({ ids: prompt }, { maxTokens: n, eosTokenIds: [] })) ids.push(t.id);
  return ids;
}

describe('GGUF twins of the safetensors fixtures', () => {
  for (const [name, dtype] of TWINS) {
    it(`${name} (${dtype}): same greedy ids and logits from model.safetensors and ${name}.gguf`, async () => {
      const hf = await loadLanguageModel(nodeModelFiles(`test/fixtures/generated/${name}`), { backend: 'cpu' });
      const gguf = await loadLanguageModel(nodeModelFiles(`test/fixtures/generated/gguf/${name}.gguf`), { backend: 'cpu' });
      try {
        expect(gguf.config.V).toBe(hf.config.V);
        expect(gguf.config.modelType).toBe(hf.config.modelType === 'mistral' ? 'llama' : hf.config.modelType);
        const prompt = seededIds(12, hf.config.V, 7);
        const a = Float32Array.from(await hf.model.prefill(prompt));
        const b = await gguf.model.prefill(prompt);
        // GGUF metadata floats are float32 (rms_norm_eps 1e-5 reads as 9.99999975e-6) and llama's
        // rope_freqs divide float32 frequencies: the same weights, logits equal to ~1e-6
        expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
        expect(await greedy(gguf, prompt, 24)).toEqual(await greedy(hf, prompt, 24));
        // the same tokenizer and chat template: text in gives the same ids
        for (const text of ['Hello there! The capital of France is Paris.', ' the quick  brown fox\n\n1234 héllo 🦙']) {
          expect(gguf.encode(text)).toEqual(hf.encode(text));
        }
        const chat = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi <|im_end|> there' }];
        expect(gguf.encode(chat)).toEqual(hf.encode(chat));
        expect(gguf.tokenizer.addBos).toBe(hf.tokenizer.addBos);
        expect(gguf.chatTemplate.source).toBe(hf.chatTemplate.source);
        for (const id of hf.eosTokenIds.filter((i) => gguf.tokenizer.tokenOf(i) !== '<|end_of_text|>')) expect(gguf.eosTokenIds).toContain(id);
      } finally {
        hf.dispose();
        gguf.dispose();
      }
    });
  }

  it('runs a GGUF on WebGPU (Dawn) like the CPU: llama (q/k permutation undone), within 1e-3, same ids', async () => {
    const files = () => nodeModelFiles('test/fixtures/generated/gguf/llama.gguf');
    const cpu = await loadLanguageModel(files(), { backend: 'cpu' });
    const gpu = await loadLanguageModel(files(), { backend: 'webgpu' });
    try {
      const prompt = seededIds(16, cpu.config.V, 3);
      expect(maxAbsDiff(Float32Array.from(await cpu.model.prefill(prompt)), await gpu.model.prefill(prompt))).toBeLessThan(1e-3);
      expect(await greedy(gpu, prompt, 16)).toEqual(await greedy(cpu, prompt, 16));
    } finally {
      cpu.dispose();
      gpu.dispose();
    }
  });
});
