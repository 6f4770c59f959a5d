// Resource caps on what a model folder controls, through the real loader (loadLanguageModel over a
// folder on disk): a hostile config.json is refused before anything is sized from it, and a
// contextLength past the model or memory is a GptError, never a RangeError.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, nodeModelFiles } from '../../../src/node.ts';
import { parseModelConfig } from '../../../src/runtime/model/hf-config.ts';

const FIXTURE = 'test/fixtures/generated/smollm2-135m';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the fixture folder with config.json fields replaced. */
function folderWith(over: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-chat-caps-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...over }));
  return dir;
}

const load = (dir: string, contextLength?: number) =>
  loadLanguageModel(nodeModelFiles(dir), { backend: 'cpu', ...(contextLength !== undefined ? { contextLength } : {}) }).catch((e: unknown) => e);

describe('config caps', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['10^6 layers', { num_hidden_layers: 1_000_000 }, /num_hidden_layers is 1000000, above 512/],
    ['a 10^9-token vocabulary', { vocab_size: 1e9 }, /vocab_size is 1000000000, above 2097152/],
    ['a 2^20-wide head', { head_dim: 1 << 20 }, /head_dim is 1048576, above 1024/],
    ['10^7 heads', { num_attention_heads: 1e7, num_key_value_heads: 1e7, head_dim: 64 }, /num_attention_heads is 10000000/],
    ['an 8M-wide MLP', { intermediate_size: 8e6 }, /intermediate_size is 8000000/],
    ['10^9 positions', { max_position_embeddings: 1e9 }, /max_position_embeddings is 1000000000/],
  ];
  for (const [what, over, message] of cases) {
    it(`refuses ${what} as bad-config naming the field, before loading anything`, async () => {
      const start = performance.now();
      expect(await load(folderWith(over))).toMatchObject({ code: 'bad-config', message: expect.stringMatching(message) });
      expect(performance.now() - start).toBeLessThan(5000); // not a worker out of memory after minutes
    });
  }

  it('names GPT-2 fields in GPT-2 terms', () => {
    const gpt2 = { model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 4096, vocab_size: 300, n_positions: 256 };
    expect(() => parseModelConfig(JSON.stringify(gpt2))).toThrow(/n_layer is 4096, above 512/);
  });

  it('a config that lies about its size (more layers than tensors) is missing-tensor before any weight is made', async () => {
    expect(await load(folderWith({ num_hidden_layers: 200 }))).toMatchObject({ code: 'missing-tensor', message: expect.stringMatching(/model\.layers\.2\./) });
  });
});

describe('contextLength', () => {
  it('past the model, fractional or zero: bad-argument, not a RangeError', async () => {
    for (const n of [1e9, 257, 1.5, 0, -3]) {
      const e = await load(FIXTURE, n);
      expect(e, String(n)).toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/contextLength .* 1 \.\. 256/) });
    }
  });

  it('past memory (a KV cache over 4 GiB): bad-argument that says what fits', async () => {
    const dir = folderWith({ max_position_embeddings: 1 << 24 });
    expect(await load(dir, 1 << 24)).toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/KV cache of \d+ MiB.*at most \d+ tokens/) });
  });
});

describe('message length', () => {
  it('a message far past the context is context-overflow before it is tokenized; one that might fit is tokenized', async () => {
    const lm = await loadLanguageModel(nodeModelFiles(FIXTURE), { backend: 'cpu' }); // context 256
    try {
      const huge = 'word '.repeat(1_000_000); // 5 MB
      expect(() => lm.encode([{ role: 'user', content: huge }])).toThrow(expect.objectContaining({ code: 'context-overflow', message: expect.stringMatching(/user message is 5000000 characters, far more than the 256-token context/) }));
      expect(() => lm.encode(huge)).toThrow(expect.objectContaining({ code: 'context-overflow', message: expect.stringMatching(/prompt is 5000000 characters/) }));
      const gen = lm.generate([{ role: 'user', content: huge }]);
      await expect(gen.next()).rejects.toMatchObject({ code: 'context-overflow' });
      // Under the character bound the tokenizer decides: counted in tokens, refused by generate in tokens.
      const long = 'word '.repeat(1000);
      expect(lm.encode([{ role: 'user', content: long }]).length).toBeGreaterThan(256);
      await expect(lm.generate([{ role: 'user', content: long }]).next()).rejects.toMatchObject({ code: 'context-overflow', message: expect.stringMatching(/tokens/) });
    } finally {
      lm.dispose();
    }
  });
});
