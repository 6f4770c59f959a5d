import { describe, expect, it } from 'vitest';
import { loadLanguageModel } from '../../../src/runtime/index.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { q4PrefillAndDecodeLogits, scoreWithAndWithoutCache, seededIds } from '../../helpers/parity-cases.ts';

const dir = (name: string) => `test/fixtures/generated/${name}`;

describe('GptModel on the CPU', () => {
  it('scores a continuation with the cached prefix exactly as teacher forcing without the cache', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('smollm2-135m')), { backend: 'cpu', prefillChunk: 4 });
    const prefix = seededIds(9, lm.config.V, 1);
    const cont = seededIds(6, lm.config.V, 2);
    const r = await scoreWithAndWithoutCache(lm, prefix, cont);
    const sum = r.bruteForce.reduce((a, b) => a + b, 0);
    expect(r.cached).toBeCloseTo(sum, 4);
    r.perToken.forEach((v, i) => expect(v).toBeCloseTo(r.bruteForce[i], 4));
    lm.dispose();
  });

  it('rewinds the cache after scoring, so the prefix logits are reused for every candidate', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('gpt2')), { backend: 'cpu' });
    const prefix = seededIds(12, lm.config.V, 3);
    const a = await lm.scoreContinuation(prefix, [5, 6, 7]);
    expect(lm.model.position).toBe(prefix.length);
    const b = await lm.scoreContinuation(prefix, [5, 6, 7]);
    expect(b.total).toBe(a.total);
    lm.dispose();
  });

  it('gives the same logits for one prefill as for token-by-token decoding', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('qwen2.5-0.5b')), { backend: 'cpu', prefillChunk: 8 });
    const ids = seededIds(20, lm.config.V, 4);
    const whole = (await lm.model.prefill(ids)).slice();
    lm.model.rewind(0);
    let last: Float32Array = new Float32Array();
    for (const id of ids) last = await lm.model.decode(id);
    for (let i = 0; i < whole.length; i++) expect(Math.abs(whole[i] - last[i])).toBeLessThan(1e-4);
    lm.dispose();
  });

  // Q4_0's matmul runs a prefill's tokens two at a time (an odd chunk's last token alone), decode
  // one at a time; chunks of 7 give both, and the logits must still be decode's, bit for bit
  it('gives bit for bit the logits of token-by-token decoding with Q4_0 weights, chunks of 7', async () => {
    const { prefill, decode } = await q4PrefillAndDecodeLogits(nodeModelFiles(dir('smollm2-135m')));
    expect(prefill).toEqual(decode);
  });

  it('refuses to run past the context window with a clear error', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu', contextLength: 16 });
    await lm.model.prefill(seededIds(10, lm.config.V, 5));
    await expect(lm.model.prefill(seededIds(7, lm.config.V, 6))).rejects.toMatchObject({
      code: 'context-overflow',
      message: expect.stringContaining('needs 17 tokens but the context window holds 16'),
    });
    expect(lm.model.position).toBe(10);
    lm.dispose();
  });

  it('generates the same text for the same seed, and streams deltas that add up to the text', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('smollm2-135m')), { backend: 'cpu' });
    const run = async (seed: number) => {
      let streamed = '';
      const ids: number[] = [];
      const gen = lm.generate([{ role: 'user', content: 'Hello there' }], { maxTokens: 12, temperature: 1, topK: 20, seed });
      for (;;) {
        const n = await gen.next();
        if (n.done) return { ids, streamed, result: n.value };
        if (n.value.id >= 0) ids.push(n.value.id);
        streamed += n.value.text;
      }
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b.ids).toEqual(a.ids);
    expect(c.ids).not.toEqual(a.ids);
    expect(a.streamed).toBe(a.result.text);
    expect(a.result.generatedTokens).toBe(a.ids.length);
    lm.dispose();
  });
});

describe('GptModel after an aborted prefill', () => {
  it('leaves the cache as it was, so the next call sees consistent state', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(dir('llama')), { backend: 'cpu', prefillChunk: 4 });
    const prefix = seededIds(6, lm.config.V, 8);
    const before = (await lm.model.prefill(prefix)).slice();
    const abort = new AbortController();
    abort.abort();
    await expect(lm.model.prefill(seededIds(9, lm.config.V, 9), abort.signal)).rejects.toThrow();
    expect(lm.model.position).toBe(prefix.length);
    // the prefix is still cached: syncing to it recomputes only its last token, with the same logits
    const again = await lm.model.sync(prefix);
    for (let i = 0; i < before.length; i++) expect(Math.abs(again[i] - before[i])).toBeLessThan(1e-5);
    lm.dispose();
  });
});
