import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StreamingDetokenizer, type TokenDecoder } from '../../src/runtime/detokenizer.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { TextTokenizer } from '../../src/runtime/tokenizer.ts';
import { byteLevelBpe, sentencePieceBpe } from '../helpers/inline-tokenizers.ts';

const TEXTS = [
  'hello world',
  'a😀b é 😀😀 hello',
  '  leading spaces and\nnew lines\n\n',
  'naïve café — 東京 🇫🇷 👩‍👩‍👧 end',
  // long enough (> 24 tokens) to make the window slide many times
  'hello world 😀 the world é 東京 hello 👩‍👩‍👧 '.repeat(6),
];

/** Streams ids through a detokenizer; returns the deltas, the last one from flush(). */
function stream(decoder: TokenDecoder, ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string[] {
  const detok = new StreamingDetokenizer(decoder, options);
  const deltas = ids.map((id) => detok.push(id));
  deltas.push(detok.flush());
  return deltas;
}

const tokenizers: [string, TextTokenizer][] = [
  ['byte-level BPE', TextTokenizer.fromJson(byteLevelBpe().tokenizerJson, byteLevelBpe().tokenizerConfig)],
  ['SentencePiece BPE with byte fallback', TextTokenizer.fromJson(sentencePieceBpe().tokenizerJson, sentencePieceBpe().tokenizerConfig)],
];
for (const name of ['gpt2', 'qwen2.5-0.5b', 'tinyllama']) {
  const dir = new URL(`../fixtures/generated/${name}/`, import.meta.url);
  if (!existsSync(new URL('tokenizer.json', dir))) continue;
  const read = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
  tokenizers.push([`fixture ${name}`, TextTokenizer.fromJson(read('tokenizer.json'), read('tokenizer_config.json'))]);
}

describe.each(tokenizers)('StreamingDetokenizer with %s', (_, tok) => {
  it('emits deltas that add up to decode(all), never a broken character', () => {
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      const deltas = stream(tok, ids);
      expect(deltas.join('')).toBe(tok.decode(ids));
      expect(deltas.join('')).toBe(text);
      for (const d of deltas) expect(d).not.toContain('\uFFFD');
      // and nothing is held back longer than a character needs: every delta but the last few is
      // emitted by the time the next token arrives, so the text before flush is almost all of it
      expect(deltas.slice(0, -1).join('').length).toBeGreaterThanOrEqual(text.length - 2);
    }
  });

  it('holds back an emoji until its last byte', () => {
    const ids = tok.encode('😀');
    expect(ids.length).toBeGreaterThan(1); // split over tokens in every layout tested here
    const detok = new StreamingDetokenizer(tok);
    const deltas = ids.map((id) => detok.push(id));
    expect(deltas.slice(0, -1).every((d) => d === '')).toBe(true);
    expect(deltas.at(-1)!.endsWith('😀')).toBe(true);
    expect(detok.flush()).toBe('');
  });

  it('matches decode(all) for random ids, invalid UTF-8 included', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const ids = Array.from({ length: 1 + (rng.nextUint32() % 60) }, () => rng.nextUint32() % tok.vocabSize);
      expect(stream(tok, ids).join('')).toBe(tok.decode(ids, { skipSpecialTokens: true }));
      expect(stream(tok, ids, { skipSpecialTokens: false }).join('')).toBe(tok.decode(ids));
    }
  });

  it('leaves special tokens out unless asked', () => {
    const eos = tok.eosTokenId!;
    const ids = [...tok.encode('hello'), eos];
    expect(stream(tok, ids).join('')).toBe('hello');
    expect(stream(tok, ids, { skipSpecialTokens: false }).join('')).toBe('hello' + tok.tokenOf(eos));
  });

  it('decodes O(1) tokens per push', () => {
    let decoded = 0;
    const counting: TokenDecoder = {
      decode: (ids, options) => {
        decoded += ids.length;
        return tok.decode(ids, options);
      },
    };
    const ids = tok.encode('hello world é '.repeat(100));
    expect(stream(counting, ids).join('')).toBe(tok.decode(ids));
    expect(decoded).toBeLessThan(ids.length * 40);
  });
});

describe('StreamingDetokenizer details', () => {
  const sp = tokenizers[1]![1];

  it('applies the SentencePiece leading-space rule only to the first token', () => {
    const detok = new StreamingDetokenizer(sp);
    expect(detok.push(sp.idOf('▁hello')!)).toBe('hello');
    expect(detok.push(sp.idOf('▁world')!)).toBe(' world');
    expect(detok.push(sp.idOf('▁hello')!)).toBe(' hello');
  });

  it('lets a U+FFFD through only for bytes that are really invalid', () => {
    const byte = (b: number) => sp.idOf(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)!;
    const detok = new StreamingDetokenizer(sp);
    expect(detok.push(byte(0xf0))).toBe(''); // could start a 4-byte character
    expect(detok.push(byte(0x9f))).toBe('');
    expect(detok.push(sp.idOf('a')!)).toBe('\uFFFDa'); // it did not: now the U+FFFD is final
    expect(detok.push(byte(0xe6))).toBe('');
    expect(detok.flush()).toBe('\uFFFD'); // the stream ended mid-character
  });
});
