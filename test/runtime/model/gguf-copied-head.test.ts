import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel } from '../../../src/node.ts';
import type { ModelWeights } from '../../../src/runtime/model/weights.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { GGML_TYPE } from '../../../tools/gguf-writer.mjs';
import { convertFolder } from '../../../tools/hf-to-gguf.mjs';
import { seededIds } from '../../helpers/parity-cases.ts';

// llama.cpp's GPT-2 converter writes the tied head twice, as token_embd.weight and again as
// output.weight (tools/hf-to-gguf.mjs does the same). Loading ties them back when the bytes are
// equal, so the GGUF holds what the Hugging Face folder holds; a head that differs stays its own.

const FOLDER = 'test/fixtures/generated/gpt2';
const dir = mkdtempSync(join(tmpdir(), 'gguf-copied-head-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const weightsOf = (lm: LanguageModel): ModelWeights => (lm.model as unknown as { weights: ModelWeights }).weights;
const bytesOf = (lm: LanguageModel): number => lm.model.backend.bytesAllocated;

async function greedy(lm: LanguageModel, prompt: number[], n: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of lm.generate({ ids: prompt }, { maxTokens: n, eosTokenIds: [] })) ids.push(t.id);
  return ids;
}

function write(file: string, bytes: Uint8Array): string {
  const path = join(dir, file);
  writeFileSync(path, bytes);
  return path;
}

describe('a GGUF output.weight that copies token_embd.weight', () => {
  const cases = [
    // our converter writes in name order, output.weight before token_embd.weight; llama.cpp the other way
    ['F32, output.weight first', () => write('gpt2-f32.gguf', convertFolder(FOLDER, { dtype: 'f32' }))],
    ['F32, token_embd.weight first (llama.cpp order)', () => write('gpt2-f32-embd-first.gguf', convertFolder(FOLDER, { dtype: 'f32', first: ['token_embd.weight'] }))],
    // every matrix in Q8_0 but the positions, as quantize-on-load holds the folder
    ['Q8_0', () => write('gpt2-q8_0.gguf', convertFolder(FOLDER, { dtype: 'f32', quantize: (n, v, r, c) => (n === 'position_embd.weight' ? null : { type: GGML_TYPE.Q8_0, bytes: quantizeMatrix('q8_0', v, r, c) }) }))],
  ] as const;
  for (const [what, make] of cases) {
    it(`${what}: one matrix held, as the folder holds it, with the same greedy ids`, async () => {
      const quantized = what === 'Q8_0';
      const hf = await loadLanguageModel(nodeModelFiles(FOLDER), { backend: 'cpu', quantize: quantized ? 'q8_0' : undefined });
      const gguf = await loadLanguageModel(nodeModelFiles(make()), { backend: 'cpu' });
      try {
        const w = weightsOf(gguf);
        expect(gguf.config.tiedHead).toBe(true);
        expect(w.lmHead).toBe(w.tokEmb);
        expect(w.tokEmb.dtype).toBe(quantized ? 'q8_0' : 'f32');
        expect(bytesOf(gguf)).toBe(bytesOf(hf));
        const prompt = seededIds(10, hf.config.V, 11);
        expect(await greedy(gguf, prompt, 20)).toEqual(await greedy(hf, prompt, 20));
      } finally {
        hf.dispose();
        gguf.dispose();
      }
    });
  }

  it('an output.weight that differs (one element) stays untied: two matrices, and its own logits', async () => {
    const changed = convertFolder(FOLDER, {
      dtype: 'f32',
      quantize: (name, values) => {
        if (name !== 'output.weight') return null;
        const v = Float32Array.from(values);
        v[v.length - 1]! += 0.5;
        return { type: GGML_TYPE.F32, bytes: new Uint8Array(v.buffer) };
      },
    });
    const hf = await loadLanguageModel(nodeModelFiles(FOLDER), { backend: 'cpu' });
    const gguf = await loadLanguageModel(nodeModelFiles(write('gpt2-untied.gguf', changed)), { backend: 'cpu' });
    try {
      const { V, C } = hf.config;
      const w = weightsOf(gguf);
      expect(gguf.config.tiedHead).toBe(false);
      expect(w.lmHead).not.toBe(w.tokEmb);
      expect(bytesOf(gguf)).toBe(bytesOf(hf) + V * C * 4);
      // the changed element is the last row's last weight: the last token's logit moves, no other
      const prompt = seededIds(6, V, 2);
      const a = Float32Array.from(await hf.model.prefill(prompt));
      const b = await gguf.model.prefill(prompt);
      expect(b.subarray(0, V - 1)).toEqual(a.subarray(0, V - 1));
      expect(b[V - 1]).not.toBe(a[V - 1]);
    } finally {
      hf.dispose();
      gguf.dispose();
    }
  });
});
