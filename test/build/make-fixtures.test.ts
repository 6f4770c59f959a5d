import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../../src/formats/safetensors.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';

const ROOT = join(import.meta.dirname, '../..');
const GEN = join(ROOT, 'test/fixtures/generated');
const index = JSON.parse(readFileSync(join(GEN, 'index.json'), 'utf8')) as Record<string, { dir: string; modelType: string; dtype: string; V: number }>;
const json = (name: string, file: string) => JSON.parse(readFileSync(join(ROOT, index[name].dir, file), 'utf8'));

function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name === 'index.json') continue; // index.json holds the output path itself
    const p = join(e.parentPath, e.name);
    out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

describe('tools/make-fixtures.mjs', () => {
  // Both run into temporary folders: the shared generated/ folder is never touched here, so test
  // files of other suites reading it at the same time are safe.
  it('is deterministic, and skips work when its outputs are up to date', () => {
    const a = mkdtempSync(join(tmpdir(), 'fixtures-a-'));
    const b = mkdtempSync(join(tmpdir(), 'fixtures-b-'));
    const run = (out: string) => execFileSync(process.execPath, [join(ROOT, 'tools/make-fixtures.mjs'), '--out', out], { encoding: 'utf8' });
    try {
      expect(run(a)).toMatch(/wrote 14 checkpoints/);
      expect(run(b)).toMatch(/wrote/);
      const ha = hashes(a);
      const hb = hashes(b);
      expect(ha.size).toBeGreaterThan(50);
      expect([...hb.keys()].sort()).toEqual([...ha.keys()].sort());
      for (const [file, h] of ha) expect(hb.get(file), file).toBe(h);
      expect(run(a)).toMatch(/up to date/);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });
});

describe.each(Object.keys(index))('fixture %s', (name) => {
  const tokJson = json(name, 'tokenizer.json');
  const tokConfig = json(name, 'tokenizer_config.json');
  const config = json(name, 'config.json');
  const tokenizer = new Tokenizer(tokJson, tokConfig);

  it('tokenizer round-trips English, accents, CJK and emoji', () => {
    const text = 'Hello there, how are you? Héllo wörld — 日本語 👋🏽 12345';
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    expect(Math.max(...ids)).toBeLessThan(config.vocab_size);
    expect(tokenizer.decode(ids)).toBe(text);
    // merges are real: common English words take fewer tokens than bytes
    expect(tokenizer.encode('the weather is nice', { add_special_tokens: false }).ids.length).toBeLessThan(14);
  });

  it('vocab_size covers the tokenizer and equals the embedding rows', async () => {
    const size = Object.keys(tokJson.model.vocab).length;
    expect(config.vocab_size).toBeGreaterThanOrEqual(size);
    const files = nodeModelFiles(join(ROOT, index[name].dir));
    const weights = (await files.has('model.safetensors')) ? 'model.safetensors' : 'model-00001-of-00002.safetensors';
    const reader = await openSafetensors(await files.open(weights), weights);
    const emb = reader.header.tensors.find((t) => t.name.endsWith('embed_tokens.weight') || t.name.endsWith('wte.weight'));
    expect(emb?.shape[0]).toBe(config.vocab_size);
  });

  it('special token ids agree between config, generation config and tokenizer', () => {
    const gen = json(name, 'generation_config.json');
    const eos = [config.eos_token_id].flat();
    expect([gen.eos_token_id].flat()).toEqual(expect.arrayContaining(eos));
    const eosToken = tokConfig.eos_token as string;
    expect(tokJson.added_tokens.map((t: { content: string }) => t.content)).toContain(eosToken);
    if (index[name].modelType !== 'gpt2') expect(gen.eos_token_id === tokJson.model.vocab[eosToken] || [gen.eos_token_id].flat().includes(tokJson.model.vocab[eosToken])).toBe(true);
  });

  it('chat template renders and its special tokens encode as single ids', () => {
    // Where the template is: tokenizer_config.json, or chat_template.jinja / .json beside it
    // (the fixtures saved as recent transformers saves them), or nowhere (GPT-2, a stripped chat model).
    const file = (f: string) => new URL(`../fixtures/generated/${name}/${f}`, import.meta.url);
    const source: string | undefined = existsSync(file('chat_template.jinja'))
      ? readFileSync(file('chat_template.jinja'), 'utf8')
      : existsSync(file('chat_template.json'))
        ? json(name, 'chat_template.json').chat_template.find((t: { name: string }) => t.name === 'default').template
        : tokConfig.chat_template;
    if (index[name].modelType === 'gpt2' || name.endsWith('-notemplate')) {
      expect(source).toBeUndefined();
      return;
    }
    if (existsSync(file('chat_template.jinja')) || existsSync(file('chat_template.json'))) expect(tokConfig.chat_template).toBeUndefined();
    const text = new Template(source!).render({
      messages: [{ role: 'user', content: 'Hi 👋' }],
      add_generation_prompt: true,
      bos_token: tokConfig.bos_token,
      eos_token: tokConfig.eos_token,
    });
    expect(text).toContain('Hi 👋');
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    expect(ids).toContain(tokJson.model.vocab[tokConfig.eos_token === '</s>' ? '</s>' : tokConfig.eos_token]);
    // SentencePiece (TinyLlama) prepends ▁ to the text after a special token, as the real
    // tokenizer.json does, so "</s>\n" decodes as "</s> \n"; byte-level ones round-trip exactly.
    const decoded = tokenizer.decode(ids);
    expect(tokJson.model.byte_fallback ? decoded.replace(/<\/s> /g, '</s>') : decoded).toBe(text);
  });
});
