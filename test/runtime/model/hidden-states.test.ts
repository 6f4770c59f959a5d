// The final hidden state the runtime hands a task head: it is the output head's input (logits =
// E h for a tied head, checked against the embedding read from the file), it does not depend on
// what the cache held before, several positions at once equal one at a time, and the weights
// fingerprint names the checkpoint.
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src/formats/safetensors.ts';
import { loadLanguageModel } from '../../../src/runtime/index.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { WeightsFingerprint } from '../../../src/runtime/model/weights-fingerprint.ts';
import { seededIds } from '../../helpers/parity-cases.ts';

const dir = (name: string) => `test/fixtures/generated/${name}`;

async function tensor(name: string, model: string): Promise<Float32Array> {
  const files = nodeModelFiles(dir(model));
  const reader = await openSafetensors(await files.open('model.safetensors'), 'model.safetensors');
  for await (const t of reader.tensors()) {
    if (t.name === name) return new Float32Array(t.bytes.slice().buffer); // the fixture is F32
  }
  throw new Error(`no ${name}`);
}

describe('final hidden states (CPU)', () => {
  it('are the input of the tied output head: logits = E h', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('smollm2-135m')), { backend: 'cpu', prefillChunk: 4 });
    const { C, V } = lm.config;
    const ids = seededIds(11, V, 5);
    const h = await lm.hiddenStates(ids);
    expect(h.length).toBe(C);
    const logits = (await lm.model.sync(ids)).slice();
    const E = await tensor('model.embed_tokens.weight', 'smollm2-135m'); // (V, C)
    let worst = 0;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += E[v * C + c] * h[c];
      worst = Math.max(worst, Math.abs(s - logits[v]));
    }
    expect(worst).toBeLessThan(1e-4);
    lm.dispose();
  });

  it('do not depend on what the cache held, and several positions equal one at a time', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('gpt2')), { backend: 'cpu', prefillChunk: 4 });
    const ids = seededIds(14, lm.config.V, 6);
    const C = lm.config.C;
    const all = await lm.hiddenStates(ids, [13, 3, 8]);
    expect(lm.model.position).toBe(14);
    await lm.model.sync(seededIds(20, lm.config.V, 9)); // something else in the cache
    for (const [row, p] of [[0, 13], [1, 3], [2, 8]] as const) {
      const one = await lm.hiddenStates(ids.slice(0, p + 1));
      for (let c = 0; c < C; c++) expect(Math.abs(one[c] - all[row * C + c])).toBeLessThan(1e-5);
    }
    await expect(lm.hiddenStates(ids, [14])).rejects.toMatchObject({ code: 'bad-argument' });
    lm.dispose();
  });

  it('reuse the shared prefix: a second suffix after the same prompt runs only its own tokens', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu', prefillChunk: 4 });
    const prompt = seededIds(10, lm.config.V, 1);
    await lm.hiddenStates([...prompt, 5, 6]);
    let ran = 0;
    const run = (lm.model as unknown as { run: (...a: unknown[]) => Promise<void> }).run.bind(lm.model);
    (lm.model as unknown as { run: (...a: unknown[]) => Promise<void> }).run = (ids, from, T, all) => ((ran += T as number), run(ids, from, T, all));
    await lm.hiddenStates([...prompt, 7, 8, 9]);
    expect(ran).toBe(3);
    lm.dispose();
  });

  it('come with a fingerprint of the weights: the same for both loads of a model, another for another model', async () => {
    const a = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu' });
    const b = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu' });
    const c = await loadLanguageModel(nodeModelFiles(dir('tinyllama')), { backend: 'cpu' });
    expect(a.weightsHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.weightsHash).toBe(a.weightsHash);
    expect(c.weightsHash).not.toBe(a.weightsHash);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('a GGUF file gets a fingerprint too, and the same hidden states as its safetensors twin', async () => {
    const folder = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu' });
    const gguf = await loadLanguageModel(nodeModelFiles(dir('gguf/llama.gguf')), { backend: 'cpu' });
    expect(gguf.weightsHash).toMatch(/^[0-9a-f]{16}$/);
    const ids = seededIds(9, folder.config.V, 2);
    const a = await folder.hiddenStates(ids);
    const b = await gguf.hiddenStates(ids);
    for (let c = 0; c < a.length; c++) expect(Math.abs(a[c] - b[c])).toBeLessThan(1e-4);
    [folder, gguf].forEach((m) => m.dispose());
  });

  it('fingerprint: independent of tensor order, sensitive to one changed byte (sampled or not)', () => {
    const small = new Uint8Array(64).map((_, i) => i);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    const f = (order: [string, Uint8Array][]) => {
      const fp = new WeightsFingerprint();
      for (const [n, bytes] of order) fp.add(n, 'F32', [bytes.length / 4], bytes);
      return fp.hex();
    };
    const base = f([['a', small], ['b', big]]);
    expect(f([['b', big], ['a', small]])).toBe(base);
    const small2 = small.slice();
    small2[5] ^= 1;
    expect(f([['a', small2], ['b', big]])).not.toBe(base);
    const big2 = big.slice();
    big2[0] ^= 1; // word 0 is always sampled
    expect(f([['a', small], ['b', big2]])).not.toBe(base);
  });
});
