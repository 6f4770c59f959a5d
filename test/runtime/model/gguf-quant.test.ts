import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel } from '../../../src/node.ts'; // Dawn for 'webgpu'
import type { ModelWeights } from '../../../src/runtime/model/weights.ts';
import type { QuantDType } from '../../../src/runtime/quant/quant-dtype.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { GGML_TYPE } from '../../../tools/gguf-writer.mjs';
import { convertFolder, type QuantizeMatrix } from '../../../tools/hf-to-gguf.mjs';
import { argmax, maxAbsDiff, seededIds } from '../../helpers/parity-cases.ts';

// Quantized GGUF files, written with our quantizer (ggml's reference quantizers, see
// src/runtime/quant/quantize.ts) through the fixture converter: their quantized tensors stay
// quantized in the backend (no dequantization to f16 at load), and run as the same weights
// quantized on load from the safetensors folder.

const dir = mkdtempSync(join(tmpdir(), 'gguf-quant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TYPE_ID: Readonly<Record<QuantDType, number>> = { q8_0: GGML_TYPE.Q8_0, q4_0: GGML_TYPE.Q4_0, q4_k: GGML_TYPE.Q4_K, q6_k: GGML_TYPE.Q6_K };

/** A GGUF of `folder` with each matrix in the type `pick` names for it (f32 where it names none). */
function writeGguf(folder: string, file: string, pick: (name: string, cols: number) => QuantDType | null): string {
  const quantize: QuantizeMatrix = (name, values, rows, cols) => {
    const t = pick(name, cols);
    return t === null ? null : { type: TYPE_ID[t], bytes: quantizeMatrix(t, values, rows, cols, name) };
  };
  const path = join(dir, file);
  writeFileSync(path, convertFolder(folder, { dtype: 'f32', quantize }));
  return path;
}

// the backend weights of a loaded model, to check which dtype each is held in (GptModel keeps them
// private: nothing outside the forward pass needs them)
const weightsOf = (lm: LanguageModel): ModelWeights => (lm.model as unknown as { weights: ModelWeights }).weights;

async function greedy(lm: LanguageModel, prompt: number[], n: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of lm.generate({ ids: prompt }, { maxTokens: n, eosTokenIds: [] })) ids.push(t.id);
  return ids;
}

describe('quantized GGUF files', () => {
  it('a Q8_0 GGUF holds Q8_0 weights and gives bit for bit the logits of the folder quantized on load', async () => {
    const folder = 'test/fixtures/generated/llama';
    const path = writeGguf(folder, 'llama-q8_0.gguf', () => 'q8_0');
    const gguf = await loadLanguageModel(nodeModelFiles(path), { backend: 'cpu' });
    const hf = await loadLanguageModel(nodeModelFiles(folder), { backend: 'cpu', quantize: 'q8_0' });
    try {
      const w = weightsOf(gguf);
      for (const m of [w.tokEmb, w.lmHead, w.layers[0].wqkv, w.layers[1].wo, w.layers[1].wUp, w.layers[0].wDown]) expect(m.dtype, m.name).toBe('q8_0');
      expect(w.layers[0].attnNormW.dtype).toBe('f32');
      const prompt = seededIds(12, hf.config.V, 5);
      // llama.cpp permutes q and k rows before quantizing them; rows are whole blocks, so undoing
      // the permutation on the blocks gives the rows quantized in Hugging Face order
      expect(await gguf.model.prefill(prompt)).toEqual(Float32Array.from(await hf.model.prefill(prompt)));
      expect(await greedy(gguf, prompt, 16)).toEqual(await greedy(hf, prompt, 16));
    } finally {
      gguf.dispose();
      hf.dispose();
    }
  });

  it('a fused weight whose tensors differ in type (Q8_0 q and k, Q4_0 v) is held in f16; the rest stays quantized', async () => {
    const folder = 'test/fixtures/generated/llama';
    const path = writeGguf(folder, 'llama-mixed.gguf', (name) => (/attn_v/.test(name) ? 'q4_0' : 'q8_0'));
    const gguf = await loadLanguageModel(nodeModelFiles(path), { backend: 'cpu' });
    const ref = await loadLanguageModel(nodeModelFiles(folder), { backend: 'cpu', quantize: 'q8_0' });
    try {
      const w = weightsOf(gguf);
      expect(w.layers[0].wqkv.dtype).toBe('f16');
      expect(w.layers[0].wo.dtype).toBe('q8_0');
      const prompt = seededIds(12, ref.config.V, 6);
      const a = Float32Array.from(await ref.model.prefill(prompt));
      const b = await gguf.model.prefill(prompt);
      const span = Math.max(...a) - Math.min(...a);
      // only v differs (q4_0 instead of q8_0): the logits move, but a little
      expect(maxAbsDiff(a, b)).toBeGreaterThan(0);
      expect(maxAbsDiff(a, b)).toBeLessThan(0.05 * span);
    } finally {
      gguf.dispose();
      ref.dispose();
    }
  });

  it("the demo model as a GGUF with K-quants (llama.cpp's Q4_K_M mix where the rows allow) keeps the F16 model's greedy ids, CPU and WebGPU", async () => {
    // C = 192 is no multiple of 256, so only ffn_down (rows of F = 512) can be Q4_K / Q6_K, as in
    // llama.cpp, which falls back to a 32-block type for such tensors; Q6_K for the first half of
    // the layers' ffn_down, as Q4_K_M does, Q4_K for the rest, Q8_0 for the embedding, Q4_0 else
    const folder = 'models/gpt-chat-demo';
    const path = writeGguf(folder, 'demo-k.gguf', (name, cols) => {
      if (name === 'token_embd.weight') return 'q8_0';
      if (cols % 256 === 0) return /^blk\.[01]\./.test(name) ? 'q6_k' : 'q4_k';
      return 'q4_0';
    });
    const f16 = await loadLanguageModel(nodeModelFiles(folder), { backend: 'cpu' });
    const cpu = await loadLanguageModel(nodeModelFiles(path), { backend: 'cpu' });
    const gpu = await loadLanguageModel(nodeModelFiles(path), { backend: 'webgpu' });
    try {
      const w = weightsOf(cpu);
      expect([w.layers[0].wDown.dtype, w.layers[3].wDown.dtype, w.layers[2].wqkv.dtype, w.tokEmb.dtype]).toEqual(['q6_k', 'q4_k', 'q4_0', 'q8_0']);
      const prompt = f16.encode([{ role: 'user', content: 'Hello! What can you do?' }]);
      const want = await greedy(f16, prompt, 24);
      expect(await greedy(cpu, prompt, 24)).toEqual(want);
      expect(await greedy(gpu, prompt, 24)).toEqual(want);
      cpu.model.rewind(0);
      gpu.model.rewind(0);
      const lc = Float32Array.from(await cpu.model.prefill(prompt));
      const lg = await gpu.model.prefill(prompt);
      expect(argmax(lg)).toBe(argmax(lc));
      // measured 0.075 (8-bit activations on the CPU, f32 on the GPU); logits span ~27 here
      expect(maxAbsDiff(lc, lg)).toBeLessThan(0.1);
    } finally {
      f16.dispose();
      cpu.dispose();
      gpu.dispose();
    }
  });
});
