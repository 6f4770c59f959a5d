import { GptError } from '../errors.ts';
import type { JsonObject } from '../formats/json.ts';
import type { GgufMetadata } from '../formats/gguf-metadata.ts';
import { ChatTemplate } from './chat-template.ts';
import { TextTokenizer } from './tokenizer.ts';

/**
 * The tokenizer stored in a GGUF file (`tokenizer.ggml.*`), turned into the tokenizer.json and
 * tokenizer_config.json that Hugging Face would have, so it runs on the same TextTokenizer
 * (@huggingface/tokenizers) as every other model:
 *
 * - `gpt2`: byte-level BPE with `tokenizer.ggml.merges`; the pre-tokenizer follows
 *   `tokenizer.ggml.pre` (llama.cpp's names: gpt-2/default, llama-bpe, qwen2, smollm).
 * - `llama`: SentencePiece BPE with `tokenizer.ggml.scores` and `<0xNN>` byte tokens. HF keeps
 *   merges where SentencePiece keeps scores; the merges are derived as transformers'
 *   `SentencePieceExtractor` does (every split of a piece into two pieces, ranked by the piece's
 *   score), and spaces become "▁" with one prefixed to each run of text, as llama.cpp does.
 *
 * Token types (`tokenizer.ggml.token_type`, llama.cpp's llama_token_type): CONTROL and UNKNOWN
 * tokens are special added tokens (typed text never produces them), USER_DEFINED ones are
 * non-special added tokens (matched in any text, as llama.cpp matches them).
 */

const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_USER_DEFINED = 4;

/** Split regexes of Hugging Face's tokenizer.json for the `tokenizer.ggml.pre` values we know. */
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const BYTE_LEVEL_NO_REGEX = { ...BYTE_LEVEL, use_regex: false };
const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

const PRE_TOKENIZERS: Readonly<Record<string, JsonObject>> = {
  'default': BYTE_LEVEL,
  'gpt-2': BYTE_LEVEL,
  'llama3': { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), BYTE_LEVEL_NO_REGEX] },
  'llama-v3': { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), BYTE_LEVEL_NO_REGEX] },
  'llama-bpe': { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), BYTE_LEVEL_NO_REGEX] },
  'qwen2': { type: 'Sequence', pretokenizers: [split(QWEN2_SPLIT), BYTE_LEVEL_NO_REGEX] },
  'smollm': { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, BYTE_LEVEL] },
};

/** Token texts llama.cpp ends generation on when the vocabulary has them (llama-vocab.cpp, special_eog_ids). */
const EOG_TEXTS: ReadonlySet<string> = new Set(['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|eom_id|>', '<EOT>']);

/** tokenizer.json and tokenizer_config.json equivalents of a GGUF's tokenizer metadata. */
export interface GgufTokenizerFiles {
  readonly tokenizerJson: JsonObject;
  readonly tokenizerConfig: JsonObject;
  /** Ids that end a reply: eos, eot, eom and llama.cpp's end-of-generation tokens. */
  readonly eosTokenIds: readonly number[];
}

/**
 * Builds the tokenizer.json / tokenizer_config.json equivalents from GGUF metadata. Throws
 * GptError 'bad-gguf' for missing or mistyped keys, 'unsupported-model' for a tokenizer model or
 * pre-tokenizer we do not implement.
 */
export function ggufTokenizerFiles(meta: GgufMetadata): GgufTokenizerFiles {
  const model = meta.string('tokenizer.ggml.model');
  const tokens = meta.stringArray('tokenizer.ggml.tokens', true);
  const n = tokens.length;
  const types = meta.numberArray('tokenizer.ggml.token_type');
  if (types && types.length !== n) meta.fail('tokenizer.ggml.token_type', `an array of ${n} token types (one per token)`, `${types.length} items`);
  const id = (key: string): number | null => {
    if (!meta.has(key)) return null;
    const v = meta.uint(key);
    if (v >= n) meta.fail(key, `a token id below ${n} (the vocabulary size)`, String(v));
    return v;
  };
  const vocab: Record<string, number> = {};
  for (let i = 0; i < n; i++) if (!(tokens[i]! in vocab)) vocab[tokens[i]!] = i;
  const added = [];
  for (let i = 0; i < n; i++) {
    const type = types ? types[i]! : 1;
    if (type !== TYPE_CONTROL && type !== TYPE_UNKNOWN && type !== TYPE_USER_DEFINED) continue;
    const special = type !== TYPE_USER_DEFINED;
    added.push({ id: i, content: tokens[i]!, single_word: false, lstrip: false, rstrip: false, normalized: !special, special });
  }

  let json: JsonObject;
  let addBosDefault: boolean;
  if (model === 'gpt2') {
    const pre = meta.string('tokenizer.ggml.pre', 'default');
    const preTokenizer = PRE_TOKENIZERS[pre];
    if (!preTokenizer) {
      throw new GptError(
        'unsupported-model',
        `${meta.file}: tokenizer.ggml.pre is "${pre}", a pre-tokenizer gpt-chat does not implement; supported: ${Object.keys(PRE_TOKENIZERS).join(', ')}. Hint: pick a model of a supported family.`,
      );
    }
    const llama3 = pre === 'llama3' || pre === 'llama-v3' || pre === 'llama-bpe';
    addBosDefault = llama3;
    json = {
      version: '1.0', truncation: null, padding: null, added_tokens: added,
      normalizer: pre === 'qwen2' ? { type: 'NFC' } : null,
      pre_tokenizer: preTokenizer,
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
        byte_fallback: false, ignore_merges: llama3, vocab, merges: mergePairs(meta.stringArray('tokenizer.ggml.merges', true)),
      },
    };
  } else if (model === 'llama') {
    const scores = meta.numberArray('tokenizer.ggml.scores', true)!;
    if (scores.length !== n) meta.fail('tokenizer.ggml.scores', `an array of ${n} scores (one per token)`, `${scores.length} items`);
    const prefix = meta.bool('tokenizer.ggml.add_space_prefix', true);
    const unk = id('tokenizer.ggml.unknown_token_id') ?? (n > 0 ? 0 : null);
    addBosDefault = true;
    json = {
      version: '1.0', truncation: null, padding: null, added_tokens: added,
      normalizer: {
        type: 'Sequence',
        normalizers: [...(prefix ? [{ type: 'Prepend', prepend: '▁' }] : []), { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
      },
      pre_tokenizer: null,
      post_processor: null,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
          ...(prefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
      model: {
        type: 'BPE', dropout: null, unk_token: unk === null ? null : tokens[unk], continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: sentencePieceMerges(tokens, scores, vocab),
      },
    };
  } else {
    throw new GptError(
      'unsupported-model',
      `${meta.file}: tokenizer.ggml.model is "${model}"; gpt-chat reads "gpt2" (byte-level BPE) and "llama" (SentencePiece) tokenizers. Hint: pick a model of a supported family.`,
    );
  }

  const text = (i: number | null) => (i === null ? null : tokens[i]!);
  const bos = id('tokenizer.ggml.bos_token_id');
  const eos = id('tokenizer.ggml.eos_token_id');
  const config: JsonObject = {
    bos_token: text(bos),
    eos_token: text(eos),
    pad_token: text(id('tokenizer.ggml.padding_token_id')),
    add_bos_token: meta.bool('tokenizer.ggml.add_bos_token', addBosDefault) && bos !== null,
  };
  const eog = [eos, id('tokenizer.ggml.eot_token_id'), id('tokenizer.ggml.eom_token_id')].filter((x): x is number => x !== null);
  for (let i = 0; i < n; i++) if (EOG_TEXTS.has(tokens[i]!)) eog.push(i);
  return { tokenizerJson: json, tokenizerConfig: config, eosTokenIds: [...new Set(eog)] };
}

/** "a b" merge strings as [a, b] pairs, split at the first space after the first character as llama.cpp does. */
function mergePairs(merges: readonly string[]): [string, string][] {
  return merges.map((m) => {
    const at = m.indexOf(' ', 1);
    return at < 0 ? [m, ''] : [m.slice(0, at), m.slice(at + 1)];
  });
}

/**
 * BPE merges equivalent to SentencePiece scores, as transformers' `SentencePieceExtractor.extract`
 * builds them: for each piece every split into two pieces of the vocabulary, pairs of one piece
 * ordered by the ids of their halves, then all ordered by the piece's score, highest first.
 */
export function sentencePieceMerges(tokens: readonly string[], scores: ArrayLike<number>, vocab: Readonly<Record<string, number>>): [string, string][] {
  const merges: { l: string; r: string; score: number; order: number }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const piece = [...tokens[i]!]; // split on code points, as Python slices strings
    const local: { l: string; r: string }[] = [];
    for (let s = 1; s < piece.length; s++) {
      const l = piece.slice(0, s).join('');
      const r = piece.slice(s).join('');
      if (l in vocab && r in vocab) local.push({ l, r });
    }
    local.sort((a, b) => vocab[a.l]! - vocab[b.l]! || vocab[a.r]! - vocab[b.r]!);
    for (const m of local) merges.push({ ...m, score: scores[i]!, order: merges.length });
  }
  merges.sort((a, b) => b.score - a.score || a.order - b.order);
  return merges.map((m) => [m.l, m.r]);
}

/** The tokenizer and chat template of a GGUF file, on the same classes as the Hugging Face path. */
export function ggufTokenizer(meta: GgufMetadata): { tokenizer: TextTokenizer; chatTemplate: ChatTemplate } {
  const files = ggufTokenizerFiles(meta);
  const tokenizer = TextTokenizer.fromJson(files.tokenizerJson, files.tokenizerConfig, {
    tokenizerFile: `${meta.file} tokenizer.ggml.*`,
    configFile: `${meta.file} tokenizer.ggml.*`,
    modelEosTokenIds: files.eosTokenIds,
  });
  const source = meta.string('tokenizer.chat_template', '');
  const chatTemplate = new ChatTemplate(source === '' ? null : source, tokenizer, `${meta.file} tokenizer.chat_template`);
  return { tokenizer, chatTemplate };
}
