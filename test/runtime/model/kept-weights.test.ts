import { describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles, type LanguageModel } from '../../../src/node.ts';
import type { FileStream } from '../../../src/formats/model-files.ts';
import { openGguf } from '../../../src/formats/gguf.ts';
import type { KeptWeightsFile } from '../../../src/runtime/model/kept-weights.ts';
import type { QuantizeOnLoad } from '../../../src/runtime/model/quantize-on-load.ts';
import { seededIds } from '../../helpers/parity-cases.ts';

// Quantize on load keeps its result (src/runtime/model/kept-weights.ts): the weights as the
// backend holds them, as one GGUF file, which a later load reads instead of the checkpoint. Both
// loads must be the same model, bit for bit, with the same fingerprint for task heads.

async function bytesOf(file: KeptWeightsFile): Promise<Uint8Array> {
  const out = new Uint8Array(file.size);
  let at = 0;
  for await (const c of file.chunks()) {
    out.set(c, at);
    at += c.length;
  }
  expect(at).toBe(file.size);
  return out;
}

/** A stream of `bytes` in pieces of `piece` bytes, as the cache serves a file. */
const streamOf = (bytes: Uint8Array, piece = 4096): FileStream => ({
  size: bytes.length,
  chunks: (async function* () {
    for (let o = 0; o < bytes.length; o += piece) yield bytes.subarray(o, o + piece);
  })(),
});

async function keep(folder: string, quantize: QuantizeOnLoad): Promise<{ lm: LanguageModel; bytes: Uint8Array }> {
  let kept: KeptWeightsFile | undefined;
  const lm = await loadLanguageModel(nodeModelFiles(folder), { backend: 'cpu', quantize, onKeepWeights: (f) => (kept = f) });
  expect(kept?.quantize).toBe(quantize);
  return { lm, bytes: await bytesOf(kept!) };
}

const fromKept = (folder: string, quantize: QuantizeOnLoad, bytes: Uint8Array, onProgress?: (p: { loaded: number; total: number }) => void) =>
  loadLanguageModel(nodeModelFiles(folder), { backend: 'cpu', quantize, keptWeights: { open: async () => streamOf(bytes) }, ...(onProgress ? { onProgress } : {}) });

describe('kept quantized weights', () => {
  for (const [folder, quantize] of [
    ['test/fixtures/generated/llama', 'q8_0'],
    ['test/fixtures/generated/gpt2', 'q4_0'], // transposed Conv1D weights, learned positions, tied head
    ['test/fixtures/generated/qwen2-f16', 'q4_0'], // f16 checkpoint, q/k/v biases
    ['test/fixtures/generated/gguf/llama.gguf', 'q8_0'], // a GGUF: q/k rows unpermuted, rope_freqs.weight kept
    ['test/fixtures/generated/gguf/gpt2.gguf', 'q4_0'], // a GGUF whose output.weight copies token_embd: kept tied
    ['test/fixtures/generated/gguf/qwen2-f16.gguf', 'q8_0'],
  ] as const) {
    it(`${folder} ${quantize}: a load from the kept file is the same model (logits, greedy ids, fingerprint)`, async () => {
      const { lm: first, bytes } = await keep(folder, quantize);
      const seen: { loaded: number; total: number }[] = [];
      const second = await fromKept(folder, quantize, bytes, (p) => seen.push(p));
      try {
        expect(second.weightsHash).toBe(first.weightsHash);
        const prompt = seededIds(10, first.config.V, 3);
        expect(await second.model.prefill(prompt)).toEqual(Float32Array.from(await first.model.prefill(prompt)));
        const greedy = async (lm: LanguageModel) => {
          const ids: number[] = [];
          for await (const t of lm.generate({ ids: prompt }, { maxTokens: 12, eosTokenIds: [] })) ids.push(t.id);
          return ids;
        };
        expect(await greedy(second)).toEqual(await greedy(first));
        // progress counts the kept file's tensor bytes, not the checkpoint's
        expect(seen.at(-1)!.total).toBeLessThan(bytes.length);
        expect(seen.at(-1)!.total).toBeGreaterThan(bytes.length * 0.9);
      } finally {
        first.dispose();
        second.dispose();
      }
    });
  }

  it('a GGUF source keeps what the config needs: rope_freqs (Llama 3 factors), the tied head; the dtypes its tensors had', async () => {
    const rope = await keep('test/fixtures/generated/gguf/llama.gguf', 'q8_0');
    const tied = await keep('test/fixtures/generated/gguf/gpt2.gguf', 'q4_0');
    rope.lm.dispose();
    tied.lm.dispose();
    const llama = await openGguf(streamOf(rope.bytes), 'llama kept');
    expect(llama.tensors.find((t) => t.name === 'rope_freqs')).toMatchObject({ shape: [1, rope.lm.config.D / 2] });
    const gpt2 = await openGguf(streamOf(tied.bytes), 'gpt2 kept');
    expect(gpt2.metadata.uint('gpt-chat.tied_head', 0)).toBe(1);
    expect(gpt2.tensors.map((t) => t.name)).not.toContain('lmHead');
    expect(gpt2.tensors.find((t) => t.name === 'tokEmb')?.layout.name).toBe('q4_0');
  });

  it('a GGUF whose matrices are all quantized already keeps nothing (quantize on load changed nothing)', async () => {
    let kept: KeptWeightsFile | undefined;
    const lm = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gguf/gpt-chat-demo-q4_k.gguf'), { backend: 'cpu', quantize: 'q4_0', onKeepWeights: (f) => (kept = f) });
    lm.dispose();
    expect(kept).toBeUndefined();
  });

  it('is about a quarter (q8_0) or an eighth (q4_0) of the f32 checkpoint, plus the small float vectors', async () => {
    const { statSync } = await import('node:fs');
    const folder = 'test/fixtures/generated/llama';
    const f32 = statSync(`${folder}/model.safetensors`).size;
    for (const [q, lo, hi] of [['q8_0', 0.2, 0.32], ['q4_0', 0.1, 0.2]] as const) {
      const { lm, bytes } = await keep(folder, q);
      lm.dispose();
      expect(bytes.length / f32, q).toBeGreaterThan(lo);
      expect(bytes.length / f32, q).toBeLessThan(hi);
    }
  });

  it('a kept file of another quantize type, another shape, or cut short is refused with bad-gguf naming what differs', async () => {
    const { lm, bytes } = await keep('test/fixtures/generated/llama', 'q8_0');
    lm.dispose();
    await expect(fromKept('test/fixtures/generated/llama', 'q4_0', bytes)).rejects.toMatchObject({ code: 'bad-gguf', message: expect.stringMatching(/quantized to q8_0, q4_0 was asked for/) });
    await expect(fromKept('test/fixtures/generated/tinyllama', 'q8_0', bytes)).rejects.toMatchObject({ code: 'bad-gguf' });
    await expect(fromKept('test/fixtures/generated/llama', 'q8_0', bytes.subarray(0, bytes.length - 100))).rejects.toMatchObject({ code: 'bad-gguf' });
    // a model's own GGUF is not kept weights either
    const { readFileSync } = await import('node:fs');
    const gguf = new Uint8Array(readFileSync('test/fixtures/generated/gguf/llama.gguf'));
    await expect(fromKept('test/fixtures/generated/llama', 'q8_0', gguf)).rejects.toMatchObject({ code: 'bad-gguf', message: expect.stringMatching(/general.architecture is not gpt-chat-weights/) });
  });
});
