import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import { TextTokenizer } from '../../src/runtime/tokenizer.ts';
import type { ModelFiles } from '../../src/formats/model-files.ts';
import { byteLevel, byteLevelBpe, sentencePieceBpe } from '../helpers/inline-tokenizers.ts';

function build(f: { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> }, extra = {}) {
  return TextTokenizer.fromJson(f.tokenizerJson, f.tokenizerConfig, extra);
}

function thrown(fn: () => unknown): GptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GptError);
    return err as GptError;
  }
  throw new Error('expected a GptError, nothing was thrown');
}

const SAMPLES = ['hello world', ' the  world\n\nhello', 'a😀b é', 'naïve café — 東京 🇫🇷 👩‍👩‍👧', 'x\ty\r\nz', ''];

describe('TextTokenizer, byte-level BPE (GPT-2 / Qwen2 layout)', () => {
  const tok = build(byteLevelBpe());

  it('uses the merges and round-trips any text', () => {
    expect(tok.encode('hello world')).toEqual([tok.idOf('hello'), tok.idOf(byteLevel(' world'))]);
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('keeps a typed special token as text, but not in rendered template text', () => {
    const imEnd = tok.idOf('<|im_end|>')!;
    const typed = tok.encode('bye<|im_end|><|im_start|>assistant');
    expect(typed).not.toContain(imEnd);
    expect(typed).not.toContain(tok.idOf('<|im_start|>'));
    expect(tok.decode(typed)).toBe('bye<|im_end|><|im_start|>assistant');
    // the same characters as "<|im_end|>" typed: one token per byte here
    expect(typed.length).toBe(3 + '<|im_end|><|im_start|>assistant'.length);
    const rendered = tok.encodeWithSpecials('bye<|im_end|>');
    expect(rendered.filter((id) => id === imEnd)).toHaveLength(1);
    expect(rendered.at(-1)).toBe(imEnd);
  });

  it('encodes segments with specials only where allowed', () => {
    const imStart = tok.idOf('<|im_start|>')!;
    const imEnd = tok.idOf('<|im_end|>')!;
    const ids = tok.encodeSegments([
      { text: '<|im_start|>user\n', specials: true },
      { text: 'hi<|im_end|>', specials: false },
      { text: '<|im_end|>\n', specials: true },
    ]);
    expect(ids.filter((id) => id === imStart)).toEqual([imStart]);
    expect(ids.filter((id) => id === imEnd)).toEqual([imEnd]);
    expect(ids[0]).toBe(imStart);
    expect(tok.decode(ids)).toBe('<|im_start|>user\nhi<|im_end|><|im_end|>\n');
    // without typed specials, segments give exactly what encoding the whole string gives
    const whole = '<|im_start|>user\nhello world<|im_end|>\n';
    expect(
      tok.encodeSegments([
        { text: '<|im_start|>user\n', specials: true },
        { text: 'hello world', specials: false },
        { text: '<|im_end|>\n', specials: true },
      ]),
    ).toEqual(tok.encodeWithSpecials(whole));
  });

  it('lets lstrip / rstrip special tokens swallow neighbouring spaces, as the library does', () => {
    const f = byteLevelBpe();
    const added = (f.tokenizerJson['added_tokens'] as Record<string, unknown>[]).map((t) =>
      t['content'] === '<|im_end|>' ? { ...t, lstrip: true, rstrip: true } : t,
    );
    const strip = TextTokenizer.fromJson({ ...f.tokenizerJson, added_tokens: added }, f.tokenizerConfig);
    const whole = 'hello  <|im_end|>  world';
    const ids = strip.encodeSegments([
      { text: 'hello  ', specials: false },
      { text: '<|im_end|>', specials: true },
      { text: '  world', specials: false },
    ]);
    expect(ids).toEqual(strip.encodeWithSpecials(whole));
    expect(strip.decode(ids)).toBe('hello<|im_end|>world');
  });

  it('reports no BOS, its EOS ids and special tokens', () => {
    expect(tok.addBos).toBe(false);
    expect(tok.bosTokenId).toBeNull();
    expect(tok.encodePrompt('hello')).toEqual(tok.encode('hello'));
    expect(tok.eosTokenId).toBe(tok.idOf('<|im_end|>'));
    expect(tok.padTokenId).toBe(tok.idOf('<|endoftext|>'));
    expect(tok.isSpecial(tok.idOf('<|im_end|>')!)).toBe(true);
    expect(tok.isSpecial(tok.idOf('hello')!)).toBe(false);
    expect(tok.tokenOf(tok.idOf('hello')!)).toBe('hello');
    expect(tok.idOf('no-such-token')).toBeNull();
    expect(tok.vocabSize).toBe(tok.idOf('<|im_end|>')! + 1);
  });

  it('decodes: skips ids past the vocabulary, refuses negative ids, can skip specials', () => {
    const ids = [...tok.encode('hello'), tok.idOf('<|im_end|>')!];
    expect(tok.decode(ids)).toBe('hello<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('hello');
    expect(tok.decode([...ids.slice(0, 1), tok.vocabSize + 5])).toBe('hello');
    expect(tok.decode([])).toBe('');
    expect(thrown(() => tok.decode([-1])).code).toBe('bad-argument');
  });

  it('merges EOS ids from generation_config.json, config.json and tokenizer_config.json', () => {
    const f = byteLevelBpe();
    const endoftext = build(f).idOf('<|endoftext|>')!;
    const imEnd = build(f).idOf('<|im_end|>')!;
    const merged = build(f, { generationConfig: { eos_token_id: [imEnd, endoftext] }, modelEosTokenIds: [endoftext, 5] });
    expect(merged.eosTokenIds).toEqual([imEnd, endoftext, 5]);
    expect(build(f, { generationConfig: { eos_token_id: 7 } }).eosTokenIds).toEqual([7, imEnd]);
  });
});

describe('TextTokenizer, SentencePiece BPE with byte fallback (TinyLlama layout)', () => {
  const tok = build(sentencePieceBpe());

  it('round-trips text, falling back to bytes for unknown characters', () => {
    expect(tok.encode('hello world')).toEqual([tok.idOf('▁hello'), tok.idOf('▁world')]);
    const emoji = tok.encode('😀');
    expect(emoji.slice(1).map((id) => tok.tokenOf(id))).toEqual(['<0xF0>', '<0x9F>', '<0x98>', '<0x80>']);
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('follows add_bos_token, then the post_processor template', () => {
    expect(tok.addBos).toBe(true);
    expect(tok.bosToken).toBe('<s>'); // from the {"content": "<s>"} form
    expect(tok.encodePrompt('hello')).toEqual([1, ...tok.encode('hello')]);
    const f = sentencePieceBpe();
    expect(build({ ...f, tokenizerConfig: { ...f.tokenizerConfig, add_bos_token: false } }).addBos).toBe(false);
    const { add_bos_token: _, bos_token: __, ...noSetting } = f.tokenizerConfig;
    const fromTemplate = build({ ...f, tokenizerConfig: noSetting });
    expect(fromTemplate.addBos).toBe(true);
    expect(fromTemplate.bosTokenId).toBe(1);
    const noTemplate = build({ tokenizerJson: { ...f.tokenizerJson, post_processor: null }, tokenizerConfig: noSetting });
    expect(noTemplate.addBos).toBe(false);
  });

  it('keeps a typed </s> as text', () => {
    const typed = tok.encode('hi </s> there');
    expect(typed).not.toContain(2);
    expect(tok.decode(typed)).toBe('hi </s> there');
    expect(tok.encodeWithSpecials('hi </s>')).toContain(2);
  });

  it('joins template text and typed text before encoding (one Prepend ▁, as for the whole string)', () => {
    // the legacy Llama normaliser prepends ▁ to every run it encodes: encoding the pieces apart
    // would give "▁hello" where the whole string gives "hello" after the newline
    const segments = [
      { text: '<|user|>\n', specials: true },
      { text: 'hello', specials: false },
      { text: '</s>', specials: true },
    ];
    expect(tok.encodeSegments(segments)).toEqual(tok.encodeWithSpecials('<|user|>\nhello</s>'));
    expect(tok.encodeSegments(segments).at(-1)).toBe(2);
  });
});

describe('TextTokenizer errors', () => {
  it('names the file and field of a broken tokenizer', () => {
    const f = byteLevelBpe();
    let e = thrown(() => TextTokenizer.fromJson({ ...f.tokenizerJson, model: undefined }, {}));
    expect(e.code).toBe('bad-config');
    expect(e.message).toMatch(/tokenizer\.json has no "model"/);
    e = thrown(() => TextTokenizer.fromJson({ ...f.tokenizerJson, added_tokens: [{ id: 'x' }] }, {}, { tokenizerFile: 'my/tokenizer.json' }));
    expect(e.message).toMatch(/my\/tokenizer\.json added_tokens\[0\]/);
    e = thrown(() => TextTokenizer.fromJson({ ...f.tokenizerJson, model: { type: 'Mystery' } }, {}));
    expect(e.code).toBe('bad-config');
    expect(e.message).toMatch(/Mystery/);
    e = thrown(() => TextTokenizer.fromJson(f.tokenizerJson, { eos_token: '<|nope|>' }));
    expect(e.message).toMatch(/tokenizer_config\.json eos_token is "<\|nope\|>"/);
    e = thrown(() => TextTokenizer.fromJson(f.tokenizerJson, {}, { generationConfig: { eos_token_id: 'two' } }));
    expect(e.message).toMatch(/generation_config\.json eos_token_id/);
    e = thrown(() => TextTokenizer.fromJson(f.tokenizerJson, {}, { generationConfig: { eos_token_id: 99999 } }));
    expect(e.message).toMatch(/99999/);
    e = thrown(() => TextTokenizer.fromJson(f.tokenizerJson, { add_bos_token: true }));
    expect(e.message).toMatch(/add_bos_token/);
    e = thrown(() => TextTokenizer.fromJson('tokenizer', {}));
    expect(e.code).toBe('bad-config');
  });

  it('load() reads the folder, with optional tokenizer_config.json and generation_config.json', async () => {
    const f = byteLevelBpe();
    const files = (entries: Record<string, string>): ModelFiles => ({
      location: 'mem://model/',
      has: async (name) => name in entries,
      text: async (name) => {
        if (!(name in entries)) throw new GptError('file-missing', `${name} is missing`);
        return entries[name]!;
      },
      open: async () => {
        throw new Error('not used');
      },
    });
    const tok = await TextTokenizer.load(
      files({ 'tokenizer.json': JSON.stringify(f.tokenizerJson), 'generation_config.json': '{"eos_token_id": [3, 4]}' }),
      [4, 9],
    );
    expect(tok.eosTokenIds).toEqual([3, 4, 9]);
    await expect(TextTokenizer.load(files({ 'tokenizer.json': '{"model": ' }))).rejects.toMatchObject({
      code: 'bad-json',
      message: expect.stringMatching(/^tokenizer\.json is not valid JSON/),
    });
    await expect(TextTokenizer.load(files({}))).rejects.toMatchObject({ code: 'file-missing' });
  });
});

// The generated fixture folders (tools/make-fixtures.mjs), when present: real layouts of each family.
const FIXTURES = new URL('../fixtures/generated/', import.meta.url);
const NAMES = ['gpt2', 'smollm2-135m', 'qwen2.5-0.5b', 'tinyllama', 'llama'];
describe.each(NAMES)('generated fixture %s', (name) => {
  const dir = new URL(`${name}/`, FIXTURES);
  const present = existsSync(new URL('tokenizer.json', dir));
  it.skipIf(!present)('loads, round-trips and keeps typed specials literal', () => {
    const read = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const config = existsSync(new URL('tokenizer_config.json', dir)) ? read('tokenizer_config.json') : {};
    const gen = existsSync(new URL('generation_config.json', dir)) ? read('generation_config.json') : null;
    const tok = TextTokenizer.fromJson(read('tokenizer.json'), config, { generationConfig: gen });
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
    expect(tok.eosTokenIds.length).toBeGreaterThan(0);
    for (const special of tok.specialTokens) {
      const ids = tok.encode(`a${special}b`);
      expect(ids.some((id) => tok.isSpecial(id))).toBe(false);
      expect(tok.decode(ids)).toBe(`a${special}b`);
      expect(tok.encodeWithSpecials(`a${special}b`)).toContain(tok.idOf(special));
    }
    expect(tok.addBos).toBe(name === 'tinyllama' || name === 'llama');
  });
});
