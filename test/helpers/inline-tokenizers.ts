/**
 * Tiny tokenizer.json objects in the two real layouts, built in code so the tokenizer tests need
 * no files: a GPT-2 / Qwen2 style byte-level BPE (256 byte symbols, a few merges, ChatML specials)
 * and a Llama / TinyLlama style SentencePiece BPE (▁ for spaces, <0x00>..<0xFF> byte fallback).
 */

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 and up. */
export function byteSymbols(): string[] {
  const symbols: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    symbols[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return symbols;
}

/** The byte-level symbols of a UTF-8 string, as one string ("Ġthe" for " the"). */
export function byteLevel(text: string): string {
  const symbols = byteSymbols();
  return Array.from(new TextEncoder().encode(text), (b) => symbols[b]).join('');
}

/** A byte-level BPE in GPT-2's layout, with ChatML special tokens as Qwen2 and SmolLM2 have. */
export function byteLevelBpe(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const vocab: Record<string, number> = {};
  for (const [i, s] of byteSymbols().entries()) vocab[s] = i;
  // merges as pairs of byte-level strings; each result is added to the vocabulary in order
  const merges: [string, string][] = [
    ['Ġ', 't'],
    ['h', 'e'],
    ['Ġt', 'he'],
    ['l', 'l'],
    ['he', 'll'],
    ['hell', 'o'],
    ['Ġ', 'w'],
    ['o', 'r'],
    ['Ġw', 'or'],
    ['l', 'd'],
    ['Ġwor', 'ld'],
    ['Ġ', 'hello'],
    // the first two bytes of most emoji (F0 9F), so an emoji is split over tokens: "ðŁ" + rest
    [byteLevel('😀').slice(0, 1), byteLevel('😀').slice(1, 2)],
    // é (C3 A9) as one token
    [byteLevel('é').slice(0, 1), byteLevel('é').slice(1, 2)],
  ];
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const next = Object.keys(vocab).length;
  const added = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((content, i) => ({
    id: next + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    },
    tokenizerConfig: {
      add_prefix_space: false,
      bos_token: null,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      clean_up_tokenization_spaces: false,
      model_max_length: 32768,
    },
  };
}

/** A SentencePiece BPE in TinyLlama's (legacy Llama) layout: Prepend ▁ normalizer, byte fallback. */
export function sentencePieceBpe(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const ch of '▁abcdefghijklmnopqrstuvwxyz<>/|!.,?') vocab[ch] ??= Object.keys(vocab).length;
  const merges: [string, string][] = [
    ['▁', 'h'],
    ['▁h', 'e'],
    ['l', 'l'],
    ['▁he', 'll'],
    ['▁hell', 'o'],
    ['▁', 'w'],
    ['o', 'r'],
    ['▁w', 'or'],
    ['l', 'd'],
    ['▁wor', 'ld'],
    ['<', '/'],
    ['▁', '<'],
  ];
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const added = ['<unk>', '<s>', '</s>'].map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<s>', type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        vocab,
        merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    },
    tokenizerConfig: {
      add_bos_token: true,
      add_eos_token: false,
      bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
      eos_token: '</s>',
      pad_token: '</s>',
      unk_token: '<unk>',
      clean_up_tokenization_spaces: false,
      legacy: false,
      model_max_length: 2048,
    },
  };
}
