#!/usr/bin/env node
// Generates tiny random-weight checkpoints in the exact Hugging Face layout of the models we
// support, plus broken ones for error tests, into test/fixtures/generated/ (gitignored).
// Deterministic (seeded mulberry32), no dependencies, a few seconds; skipped when the outputs were
// made by this very script already. `node tools/make-fixtures.mjs --force` regenerates anyway.
// What each fixture is: test/fixtures/README.md.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertFolder } from './hf-to-gguf.mjs';
import { loadQuantizer, QUANTIZER_SOURCES } from './ts-quantizer.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` writes elsewhere (the determinism test uses a temporary folder).
const outArg = process.argv.indexOf('--out');
// `--bench` writes the benchmark checkpoints (BENCH_FIXTURES, tens of MB) to .cache/bench-models.
const BENCH_MODE = process.argv.includes('--bench');
const OUT = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(ROOT, BENCH_MODE ? '.cache/bench-models' : 'test/fixtures/generated');
const STAMP = join(OUT, '.stamp');

// ---------------------------------------------------------------- seeded random numbers

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text) {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

// ---------------------------------------------------------------- float encodings

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toBf16(x) {
  f32[0] = x;
  const b = u32[0];
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff; // round to nearest even
}

function toF16(x) {
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundEven(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) { m = 0; e += 1; }
  return sign | ((e + 15) << 10) | m;
}

function roundEven(v) {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/** Float32Array -> little-endian bytes of dtype F32 | F16 | BF16. */
function encode(values, dtype) {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'F16' ? toF16(values[i]) : toBf16(values[i]);
  return new Uint8Array(out.buffer);
}

// ---------------------------------------------------------------- safetensors writer

/** tensors: [{name, dtype, shape, bytes}] written in the given order. */
function safetensorsBytes(tensors, metadata = { format: 'pt' }) {
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Like the reference writer: pad the header with spaces so the data starts 8-byte aligned.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.from(json);
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let pos = 8 + head.length;
  for (const t of tensors) {
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------- tokenizers

// A little English, chat and code so the merges are the common pairs of real text.
const CORPUS = `The quick brown fox jumps over the lazy dog. Hello there! How are you today? I am fine, thank you.
The weather is nice and the sun is shining. What is the capital of France? The capital of France is Paris.
You are a helpful assistant. The user asks a question and the assistant answers it in a friendly way.
She sells sea shells on the sea shore. This is a test of the tokenizer, and it should work well.
Once upon a time there was a little girl who lived in a village near the forest. She went to see her grandmother.
function hello(name) { return "Hello, " + name; } for (let i = 0; i < 10; i++) { console.log(i); }
It is not the critic who counts; the credit belongs to the man who is actually in the arena.
In the beginning of the story, the children were playing in the garden with their friends and their dog.
Please write a short poem about the ocean. The ocean is deep and blue, and the waves are singing to the shore.
Classify the sentiment of this review: I loved this movie, it was great! Sentiment: positive. That was terrible. Sentiment: negative.`;

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
// The real pre-tokenizer patterns, as they stand in the published tokenizer.json files.
const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** GPT-2's byte -> printable unicode character table, in GPT-2's vocabulary order. */
function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return bs.map((b, i) => [b, String.fromCodePoint(cs[i])]);
}

/** Trains `count` BPE merges over words (arrays of symbols); ties break on the pair text. */
function trainMerges(words, count) {
  const counts = new Map();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  let entries = [...counts].map(([w, c]) => ({ syms: [...w], c }));
  const merges = [];
  for (let m = 0; m < count; m++) {
    const pairs = new Map();
    for (const { syms, c } of entries) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]} ${syms[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + c);
      }
    }
    let best = null;
    for (const [key, c] of pairs) if (!best || c > best[1] || (c === best[1] && key < best[0])) best = [key, c];
    if (!best || best[1] < 2) break;
    const [a, b] = best[0].split(' ');
    merges.push([a, b]);
    entries = entries.map(({ syms, c }) => {
      const out = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(syms[i]);
      }
      return { syms: out, c };
    });
  }
  return merges;
}

const BYTE_TABLE = bytesToUnicode();
const BYTE_CHAR = new Map(BYTE_TABLE);

function byteLevelWords(text) {
  const enc = new TextEncoder();
  return (text.match(GPT2_SPLIT) ?? []).map((w) => [...enc.encode(w)].map((b) => BYTE_CHAR.get(b)).join(''));
}

const BYTE_LEVEL_MERGES = trainMerges(byteLevelWords(CORPUS), 160);

/** Byte-level BPE vocab: [specials before] + 256 byte symbols + merged tokens + [specials after]. */
function byteLevelVocab(before, after) {
  const tokens = [...before, ...BYTE_TABLE.map(([, ch]) => ch)];
  const seen = new Set(tokens);
  for (const [a, b] of BYTE_LEVEL_MERGES) if (!seen.has(a + b)) { seen.add(a + b); tokens.push(a + b); }
  tokens.push(...after);
  return tokens;
}

function added(id, content, special = true) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special };
}

function bpeModel(vocab, merges, extra = {}) {
  return {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
    fuse_unk: false, byte_fallback: false, ...extra,
    vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    merges: merges.map(([a, b]) => `${a} ${b}`),
  };
}

function specialsOf(tokens, names) {
  return names.map((n) => added(tokens.indexOf(n), n));
}

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

function gpt2Tokenizer() {
  const tokens = byteLevelVocab([], ['<|endoftext|>']);
  return {
    tokens,
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ ...added(tokens.length - 1, '<|endoftext|>'), normalized: true }],
      normalizer: null,
      pre_tokenizer: BYTE_LEVEL,
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(tokens, BYTE_LEVEL_MERGES),
    },
  };
}

const SMOLLM2_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>', '<file_sep>', '<filename>',
  '<gh_stars>', '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>', '<jupyter_code>',
  '<jupyter_output>', '<jupyter_script>', '<empty_output>'];

function smollm2Tokenizer() {
  const tokens = byteLevelVocab(SMOLLM2_SPECIALS, []);
  return {
    tokens,
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: specialsOf(tokens, SMOLLM2_SPECIALS),
      normalizer: null,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, BYTE_LEVEL] },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(tokens, BYTE_LEVEL_MERGES),
    },
  };
}

const QWEN2_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>',
  '<|box_start|>', '<|box_end|>', '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>',
  '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>'];
const QWEN2_TOOL_TOKENS = ['<tool_call>', '</tool_call>'];

function qwen2Tokenizer() {
  const tokens = byteLevelVocab([], [...QWEN2_SPECIALS, ...QWEN2_TOOL_TOKENS]);
  return {
    tokens,
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [...specialsOf(tokens, QWEN2_SPECIALS), ...QWEN2_TOOL_TOKENS.map((t) => added(tokens.indexOf(t), t, false))],
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      model: bpeModel(tokens, BYTE_LEVEL_MERGES, { ignore_merges: false }),
    },
  };
}

const LLAMA3_SPECIALS = ['<|begin_of_text|>', '<|end_of_text|>', '<|reserved_special_token_0|>', '<|reserved_special_token_1|>',
  '<|finetune_right_pad_id|>', '<|reserved_special_token_2|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>',
  '<|eot_id|>', '<|python_tag|>'];

function llama3Tokenizer() {
  const tokens = byteLevelVocab([], LLAMA3_SPECIALS);
  const bos = tokens.indexOf('<|begin_of_text|>');
  return {
    tokens,
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: specialsOf(tokens, LLAMA3_SPECIALS),
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
      post_processor: {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
              { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [bos], tokens: ['<|begin_of_text|>'] } },
          },
        ],
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpeModel(tokens, BYTE_LEVEL_MERGES, { ignore_merges: true }),
    },
  };
}

/** SentencePiece-style BPE (Llama 2 / TinyLlama): ▁ for spaces, <0xNN> byte fallback. */
function sentencePieceTokenizer() {
  const text = CORPUS.replace(/\n/g, ' ');
  const words = text.split(' ').filter(Boolean).map((w) => `▁${w}`);
  const merges = trainMerges(words, 160);
  const tokens = ['<unk>', '<s>', '</s>'];
  for (let b = 0; b < 256; b++) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const seen = new Set(tokens);
  for (const [a, b] of merges) if (!seen.has(a + b)) { seen.add(a + b); tokens.push(a + b); }
  // Single characters come last in a SentencePiece vocab (lowest scores).
  for (const ch of [...new Set([...words.join('')])].sort()) if (!seen.has(ch)) { seen.add(ch); tokens.push(ch); }
  return {
    tokens,
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
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
      model: bpeModel(tokens, merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true, ignore_merges: false }),
    },
  };
}

// ---------------------------------------------------------------- chat templates (verbatim from the hub)

const SMOLLM2_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const QWEN25_TEMPLATE = "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n    {%- elif message.role == \"tool\" %}\n        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n            {{- '<|im_end|>\\n' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n";

const TINYLLAMA_TEMPLATE = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

// Meta-Llama-3-8B-Instruct's template (3.1's adds tool and date handling around the same format).
const LLAMA3_TEMPLATE = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

function addedTokensDecoder(tok) {
  return Object.fromEntries(tok.json.added_tokens.map((t) => [String(t.id), {
    content: t.content, lstrip: false, normalized: t.normalized, rstrip: false, single_word: false, special: t.special,
  }]));
}

// ---------------------------------------------------------------- the fixtures

const TINY = { maxPositions: 256 };

/** Each family: tokenizer, config.json, tokenizer_config.json, generation_config.json, tensors. */
const FAMILIES = {
  gpt2(tok, d) {
    const eot = tok.tokens.indexOf('<|endoftext|>');
    return {
      config: {
        activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: eot,
        embd_pdrop: 0.1, eos_token_id: eot, initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2',
        n_ctx: d.maxPositions, n_embd: d.C, n_head: d.H, n_inner: null, n_layer: d.L, n_positions: d.maxPositions,
        reorder_and_upcast_attn: false, resid_pdrop: 0.1, scale_attn_by_inverse_layer_idx: false, scale_attn_weights: true,
        summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
        summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
        transformers_version: '4.26.0.dev0', use_cache: true, vocab_size: d.V, ...d.extraConfig,
      },
      tokenizerConfig: { model_max_length: d.maxPositions, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_prefix_space: false, tokenizer_class: 'GPT2Tokenizer' },
      generationConfig: { _from_model_config: true, bos_token_id: eot, eos_token_id: eot, transformers_version: '4.26.0.dev0' },
    };
  },
  smollm2(tok, d) {
    return {
      config: {
        architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 1, eos_token_id: 2,
        head_dim: d.D, hidden_act: 'silu', hidden_size: d.C, initializer_range: 0.041666666666666664,
        intermediate_size: d.F, is_llama_config: true, max_position_embeddings: d.maxPositions, mlp_bias: false,
        model_type: 'llama', num_attention_heads: d.H, num_hidden_layers: d.L, num_key_value_heads: d.Hkv, pad_token_id: 2,
        pretraining_tp: 1, rms_norm_eps: 1e-5, rope_interleaved: false, rope_scaling: null, rope_theta: 100000,
        tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.42.3',
        'transformers.js_config': { kv_cache_dtype: { q4f16: 'float16', fp16: 'float16' } }, use_cache: true, vocab_size: d.V,
      },
      tokenizerConfig: {
        add_prefix_space: false, added_tokens_decoder: addedTokensDecoder(tok), additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
        bos_token: '<|im_start|>', chat_template: SMOLLM2_TEMPLATE, clean_up_tokenization_spaces: false, eos_token: '<|im_end|>',
        model_max_length: d.maxPositions, pad_token: '<|im_end|>', tokenizer_class: 'GPT2Tokenizer', unk_token: '<|endoftext|>', vocab_size: d.V,
      },
      generationConfig: { bos_token_id: 1, eos_token_id: 2, pad_token_id: 2, transformers_version: '4.42.3' },
    };
  },
  qwen2(tok, d) {
    const eot = tok.tokens.indexOf('<|endoftext|>');
    const imEnd = tok.tokens.indexOf('<|im_end|>');
    return {
      config: {
        architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: eot, eos_token_id: imEnd, hidden_act: 'silu',
        hidden_size: d.C, initializer_range: 0.02, intermediate_size: d.F, max_position_embeddings: d.maxPositions,
        max_window_layers: d.L, model_type: 'qwen2', num_attention_heads: d.H, num_hidden_layers: d.L, num_key_value_heads: d.Hkv,
        rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: d.maxPositions, tie_word_embeddings: true,
        torch_dtype: 'bfloat16', transformers_version: '4.43.1', use_cache: true, use_sliding_window: false, vocab_size: d.V,
      },
      tokenizerConfig: {
        add_bos_token: false, add_prefix_space: false, added_tokens_decoder: addedTokensDecoder(tok),
        additional_special_tokens: QWEN2_SPECIALS.slice(1), bos_token: null, chat_template: QWEN25_TEMPLATE,
        clean_up_tokenization_spaces: false, eos_token: '<|im_end|>', errors: 'replace', model_max_length: d.maxPositions,
        pad_token: '<|endoftext|>', split_special_tokens: false, tokenizer_class: 'Qwen2Tokenizer', unk_token: null,
      },
      generationConfig: {
        bos_token_id: eot, pad_token_id: eot, do_sample: true, eos_token_id: [imEnd, eot], repetition_penalty: 1.1,
        temperature: 0.7, top_p: 0.8, top_k: 20, transformers_version: '4.37.0',
      },
    };
  },
  tinyllama(tok, d) {
    return {
      config: {
        architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu',
        hidden_size: d.C, initializer_range: 0.02, intermediate_size: d.F, max_position_embeddings: d.maxPositions,
        model_type: 'llama', num_attention_heads: d.H, num_hidden_layers: d.L, num_key_value_heads: d.Hkv, pretraining_tp: 1,
        rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 10000.0, tie_word_embeddings: false, torch_dtype: 'bfloat16',
        transformers_version: '4.35.0', use_cache: true, vocab_size: d.V,
      },
      tokenizerConfig: {
        add_bos_token: true, add_eos_token: false, added_tokens_decoder: addedTokensDecoder(tok), bos_token: '<s>',
        chat_template: TINYLLAMA_TEMPLATE, clean_up_tokenization_spaces: false, eos_token: '</s>', legacy: false,
        model_max_length: d.maxPositions, pad_token: '</s>', padding_side: 'right', sp_model_kwargs: {},
        tokenizer_class: 'LlamaTokenizer', unk_token: '<unk>',
      },
      generationConfig: { bos_token_id: 1, eos_token_id: 2, max_length: d.maxPositions, pad_token_id: 0, transformers_version: '4.35.0' },
    };
  },
  llama3(tok, d) {
    const id = (t) => tok.tokens.indexOf(t);
    const eos = [id('<|end_of_text|>'), id('<|eom_id|>'), id('<|eot_id|>')];
    return {
      config: {
        architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: id('<|begin_of_text|>'),
        eos_token_id: eos, hidden_act: 'silu', hidden_size: d.C, initializer_range: 0.02, intermediate_size: d.F,
        max_position_embeddings: d.maxPositions, mlp_bias: false, model_type: 'llama', num_attention_heads: d.H,
        num_hidden_layers: d.L, num_key_value_heads: d.Hkv, pretraining_tp: 1, rms_norm_eps: 1e-5,
        // original_max_position_embeddings scaled down with the context, so that at D 16 the head's
        // frequencies fall in all three llama3 bands (kept, smoothed, divided by factor).
        rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64, rope_type: 'llama3' },
        rope_theta: 500000.0, tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.42.3', use_cache: true, vocab_size: d.V,
      },
      tokenizerConfig: {
        added_tokens_decoder: addedTokensDecoder(tok), bos_token: '<|begin_of_text|>', chat_template: LLAMA3_TEMPLATE,
        clean_up_tokenization_spaces: true, eos_token: '<|eot_id|>', model_input_names: ['input_ids', 'attention_mask'],
        model_max_length: d.maxPositions, tokenizer_class: 'PreTrainedTokenizerFast',
      },
      generationConfig: { bos_token_id: id('<|begin_of_text|>'), do_sample: true, eos_token_id: eos, temperature: 0.6, top_p: 0.9, transformers_version: '4.42.3' },
    };
  },
};

const TOKENIZERS = { gpt2: gpt2Tokenizer, smollm2: smollm2Tokenizer, qwen2: qwen2Tokenizer, tinyllama: sentencePieceTokenizer, llama3: llama3Tokenizer };

/**
 * The fixtures. `seed` names the weights: variants sharing a seed hold the same values in another
 * dtype or layout, so forward passes over them can be compared.
 */
const FIXTURES = [
  { name: 'gpt2', hfRepo: 'openai-community/gpt2', family: 'gpt2', dtype: 'F32', dims: { L: 2, C: 64, H: 4, F: 256 }, gpt2Prefix: false },
  { name: 'distilgpt2', hfRepo: 'distilbert/distilgpt2', family: 'gpt2', dtype: 'F32', dims: { L: 1, C: 64, H: 4, F: 256 }, gpt2Prefix: false,
    extraConfig: { _num_labels: 1, id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
  { name: 'gpt2-prefixed', hfRepo: 'openai-community/gpt2 (saved by GPT2LMHeadModel.save_pretrained)', family: 'gpt2', dtype: 'F32',
    dims: { L: 2, C: 64, H: 4, F: 256 }, gpt2Prefix: true, seed: 'gpt2' },
  { name: 'smollm2-135m', hfRepo: 'HuggingFaceTB/SmolLM2-135M-Instruct', family: 'smollm2', dtype: 'F32', dims: { L: 2, C: 96, H: 6, Hkv: 2, D: 16, F: 160 } },
  { name: 'smollm2-360m', hfRepo: 'HuggingFaceTB/SmolLM2-360M-Instruct', family: 'smollm2', dtype: 'F32', dims: { L: 2, C: 48, H: 3, Hkv: 1, D: 16, F: 128 } },
  { name: 'smollm2-bf16', hfRepo: 'HuggingFaceTB/SmolLM2-135M-Instruct (bf16 as published)', family: 'smollm2', dtype: 'BF16',
    dims: { L: 2, C: 96, H: 6, Hkv: 2, D: 16, F: 160 }, seed: 'smollm2-135m' },
  { name: 'qwen2.5-0.5b', hfRepo: 'Qwen/Qwen2.5-0.5B-Instruct', family: 'qwen2', dtype: 'F32', dims: { L: 2, C: 64, H: 4, Hkv: 2, D: 16, F: 172 }, padVocabTo: 64 },
  { name: 'qwen2-f16', hfRepo: 'Qwen/Qwen2.5-0.5B-Instruct (f16)', family: 'qwen2', dtype: 'F16', dims: { L: 2, C: 64, H: 4, Hkv: 2, D: 16, F: 172 },
    padVocabTo: 64, seed: 'qwen2.5-0.5b' },
  { name: 'tinyllama', hfRepo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', family: 'tinyllama', dtype: 'F32', dims: { L: 2, C: 128, H: 8, Hkv: 2, D: 16, F: 172 } },
  // Chat templates where recent transformers saves them: chat_template.jinja beside
  // tokenizer_config.json (4.56 and later), chat_template.json with named templates, or nowhere.
  { name: 'tinyllama-jinja', hfRepo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0 (saved by transformers 4.56)', family: 'tinyllama', dtype: 'F32',
    dims: { L: 1, C: 64, H: 4, Hkv: 2, D: 16, F: 96 }, templateIn: 'jinja' },
  { name: 'smollm2-template-json', hfRepo: 'HuggingFaceTB/SmolLM2-135M-Instruct (chat_template.json, named templates)', family: 'smollm2', dtype: 'F32',
    dims: { L: 1, C: 48, H: 3, Hkv: 1, D: 16, F: 64 }, templateIn: 'json' },
  { name: 'tinyllama-chat-notemplate', hfRepo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0 (chat template removed)', family: 'tinyllama', dtype: 'F32',
    dims: { L: 1, C: 64, H: 4, Hkv: 2, D: 16, F: 96 }, templateIn: 'none' },
  { name: 'llama', hfRepo: 'meta-llama/Llama-3.1-8B-Instruct (layout)', family: 'llama3', dtype: 'F32', dims: { L: 2, C: 64, H: 4, Hkv: 2, D: 16, F: 128 } },
  { name: 'llama-sharded', hfRepo: 'meta-llama/Llama-3.1-8B-Instruct (layout, 2 shards)', family: 'llama3', dtype: 'F32',
    dims: { L: 2, C: 64, H: 4, Hkv: 2, D: 16, F: 128 }, shards: 2, seed: 'llama' },
];

/**
 * Benchmark shapes. llama-15m is the stories15M shape of llama2.c (dim 288, 6 layers, 6 heads,
 * vocab 32000, tied head), for which the runtime issue gives reference speeds of other runtimes.
 */
const BENCH_FIXTURES = [
  { name: 'llama-15m', hfRepo: 'karpathy/tinyllamas stories15M (shape only)', family: 'tinyllama', dtype: 'F32',
    dims: { L: 6, C: 288, H: 6, Hkv: 6, D: 48, F: 768 }, padVocabTo: 32000, tied: true },
  { name: 'llama-15m-f16', hfRepo: 'stories15M shape, f16', family: 'tinyllama', dtype: 'F16',
    dims: { L: 6, C: 288, H: 6, Hkv: 6, D: 48, F: 768 }, padVocabTo: 32000, tied: true, seed: 'llama-15m' },
  // the real SmolLM2-135M-Instruct's shape and dtype (270 MB), for time to first token from the cache
  { name: 'smollm2-135m-shape', hfRepo: 'HuggingFaceTB/SmolLM2-135M-Instruct (shape only)', family: 'smollm2', dtype: 'F16',
    dims: { L: 30, C: 576, H: 9, Hkv: 3, D: 64, F: 1536 }, padVocabTo: 49152, tied: true },
  // 540 MB: the shape of the smallest real chat model the element targets, 2048 positions (for decode at 1024)
  { name: 'smollm2-135m', hfRepo: 'HuggingFaceTB/SmolLM2-135M-Instruct (shape only)', family: 'smollm2', dtype: 'F32',
    dims: { L: 30, C: 576, H: 9, Hkv: 3, D: 64, F: 1536 }, padVocabTo: 49152, maxPositions: 2048 },
  // 500 MB: GPT-2 124M's shape (the original GPT-2 architecture at its smallest real size, 1024 positions)
  { name: 'gpt2-124m', hfRepo: 'openai-community/gpt2 (shape only)', family: 'gpt2', dtype: 'F32',
    dims: { L: 12, C: 768, H: 12, F: 3072 }, padVocabTo: 50257, maxPositions: 1024, gpt2Prefix: false },
];

/** HF tensors of one fixture, as [{name, shape, values: Float32Array}], names sorted. */
function makeTensors(fx, d, cfg) {
  const rand = mulberry32(seedOf(fx.seed ?? fx.name));
  const out = [];
  // Uniform in [-a, a] has std a / sqrt(3): matrices ~0.05, embeddings ~0.1, norms 1 +- 0.1.
  const add = (name, shape, kind) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const v = new Float32Array(n);
    const a = kind === 'emb' ? 0.17 : kind === 'norm' ? 0.17 : kind === 'bias' ? 0.035 : 0.087;
    for (let i = 0; i < n; i++) v[i] = (kind === 'norm' ? 1 : 0) + (2 * rand() - 1) * a;
    out.push({ name, shape, values: v });
  };
  const { L, C, F, V } = d;
  if (fx.family === 'gpt2') {
    const p = fx.gpt2Prefix ? 'transformer.' : '';
    add(`${p}wte.weight`, [V, C], 'emb');
    add(`${p}wpe.weight`, [d.maxPositions, C], 'emb');
    for (let l = 0; l < L; l++) {
      const h = `${p}h.${l}`;
      add(`${h}.ln_1.weight`, [C], 'norm');
      add(`${h}.ln_1.bias`, [C], 'bias');
      add(`${h}.attn.c_attn.weight`, [C, 3 * C], 'mat');
      add(`${h}.attn.c_attn.bias`, [3 * C], 'bias');
      add(`${h}.attn.c_proj.weight`, [C, C], 'mat');
      add(`${h}.attn.c_proj.bias`, [C], 'bias');
      add(`${h}.ln_2.weight`, [C], 'norm');
      add(`${h}.ln_2.bias`, [C], 'bias');
      add(`${h}.mlp.c_fc.weight`, [C, F], 'mat');
      add(`${h}.mlp.c_fc.bias`, [F], 'bias');
      add(`${h}.mlp.c_proj.weight`, [F, C], 'mat');
      add(`${h}.mlp.c_proj.bias`, [C], 'bias');
      // The causal-mask buffers old checkpoints carry; a loader must ignore them.
      if (fx.gpt2Prefix) {
        const mask = new Float32Array(TINY.maxPositions * TINY.maxPositions);
        for (let i = 0; i < TINY.maxPositions; i++) for (let j = 0; j <= i; j++) mask[i * TINY.maxPositions + j] = 1;
        out.push({ name: `${h}.attn.bias`, shape: [1, 1, TINY.maxPositions, TINY.maxPositions], values: mask });
        out.push({ name: `${h}.attn.masked_bias`, shape: [], values: Float32Array.of(-1e4) });
      }
    }
    add(`${p}ln_f.weight`, [C], 'norm');
    add(`${p}ln_f.bias`, [C], 'bias');
    if (fx.gpt2Prefix) out.push({ name: 'lm_head.weight', shape: [V, C], values: out[0].values });
  } else {
    const { H, Hkv, D } = d;
    add('model.embed_tokens.weight', [V, C], 'emb');
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}`;
      add(`${p}.input_layernorm.weight`, [C], 'norm');
      add(`${p}.self_attn.q_proj.weight`, [H * D, C], 'mat');
      add(`${p}.self_attn.k_proj.weight`, [Hkv * D, C], 'mat');
      add(`${p}.self_attn.v_proj.weight`, [Hkv * D, C], 'mat');
      if (fx.family === 'qwen2') {
        add(`${p}.self_attn.q_proj.bias`, [H * D], 'bias');
        add(`${p}.self_attn.k_proj.bias`, [Hkv * D], 'bias');
        add(`${p}.self_attn.v_proj.bias`, [Hkv * D], 'bias');
      }
      add(`${p}.self_attn.o_proj.weight`, [C, H * D], 'mat');
      add(`${p}.post_attention_layernorm.weight`, [C], 'norm');
      add(`${p}.mlp.gate_proj.weight`, [F, C], 'mat');
      add(`${p}.mlp.up_proj.weight`, [F, C], 'mat');
      add(`${p}.mlp.down_proj.weight`, [C, F], 'mat');
      // Old Llama checkpoints saved this buffer; loaders ignore it.
      if (fx.family === 'tinyllama') {
        const inv = new Float32Array(D / 2);
        for (let i = 0; i < D / 2; i++) inv[i] = 1 / Math.pow(cfg.rope_theta, (2 * i) / D);
        out.push({ name: `${p}.self_attn.rotary_emb.inv_freq`, shape: [D / 2], values: inv });
      }
    }
    add('model.norm.weight', [C], 'norm');
    if (!cfg.tie_word_embeddings) add('lm_head.weight', [V, C], 'emb');
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function makeFixture(fx) {
  const tok = TOKENIZERS[fx.family]();
  const pad = fx.padVocabTo ?? 1;
  const V = Math.ceil(tok.tokens.length / pad) * pad;
  const d = { Hkv: fx.dims.H, D: fx.dims.C / fx.dims.H, ...fx.dims, V, maxPositions: fx.maxPositions ?? TINY.maxPositions, extraConfig: fx.extraConfig };
  const files = FAMILIES[fx.family](tok, d);
  const dir = join(OUT, fx.name);
  mkdirSync(dir, { recursive: true });
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[fx.dtype];
  if (fx.family !== 'gpt2') files.config.torch_dtype = torchDtype;
  if (fx.tied) files.config.tie_word_embeddings = true;
  writeJson(join(dir, 'config.json'), files.config);
  writeJson(join(dir, 'tokenizer.json'), tok.json);
  if (fx.templateIn) {
    const { chat_template: template, ...rest } = files.tokenizerConfig;
    files.tokenizerConfig = rest;
    if (fx.templateIn === 'jinja') writeFileSync(join(dir, 'chat_template.jinja'), template);
    const toolUse = "{{ 'tools: ' }}{% for message in messages %}{{ message['content'] }}{% endfor %}";
    if (fx.templateIn === 'json') writeJson(join(dir, 'chat_template.json'), { chat_template: [{ name: 'tool_use', template: toolUse }, { name: 'default', template }] });
  }
  writeJson(join(dir, 'tokenizer_config.json'), files.tokenizerConfig);
  writeJson(join(dir, 'generation_config.json'), files.generationConfig);
  const tensors = makeTensors(fx, d, files.config).map((t) => ({
    name: t.name,
    // buffers and masks stay F32 like in the real checkpoints' fp32 buffers; weights take the fixture dtype
    dtype: t.name.endsWith('inv_freq') || t.name.includes('attn.bias') || t.name.includes('masked_bias') ? 'F32' : fx.dtype,
    shape: t.shape,
    values: t.values,
  })).map((t) => ({ ...t, bytes: encode(t.values, t.dtype) }));
  if (fx.shards) {
    const names = `model-0000X-of-0000${fx.shards}.safetensors`;
    const per = Math.ceil(tensors.length / fx.shards);
    const weightMap = {};
    let totalSize = 0;
    for (let s = 0; s < fx.shards; s++) {
      const file = names.replace('X', String(s + 1));
      const part = tensors.slice(s * per, (s + 1) * per);
      for (const t of part) { weightMap[t.name] = file; totalSize += t.bytes.byteLength; }
      writeFileSync(join(dir, file), safetensorsBytes(part));
    }
    writeJson(join(dir, 'model.safetensors.index.json'), { metadata: { total_size: totalSize }, weight_map: weightMap });
  } else {
    writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(tensors));
  }
  return { dir: relative(ROOT, dir), modelType: files.config.model_type, dtype: fx.dtype, hfRepo: fx.hfRepo, sharded: Boolean(fx.shards), V };
}

// ---------------------------------------------------------------- broken fixtures

function makeBroken() {
  const root = join(OUT, 'broken');
  const good = join(OUT, 'llama');
  const goodConfig = readFileSync(join(good, 'config.json'), 'utf8');
  const goodWeights = readFileSync(join(good, 'model.safetensors'));
  const tensorsOf = (buf) => {
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    delete header.__metadata__;
    return Object.entries(header).map(([name, e]) => ({
      name, dtype: e.dtype, shape: e.shape, bytes: buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]),
    }));
  };
  const good2 = tensorsOf(goodWeights);
  const cases = {
    'truncated': { expect: 'bad-safetensors', weights: goodWeights.subarray(0, goodWeights.length - 100) },
    'header-past-eof': { expect: 'bad-safetensors', weights: (() => { const b = Buffer.from(goodWeights.subarray(0, 4096)); b.writeBigUInt64LE(1_000_000n, 0); return b; })() },
    'unknown-dtype': { expect: 'unsupported-dtype', weights: safetensorsBytes(good2.map((t) => t.name === 'model.norm.weight' ? { ...t, dtype: 'I8', shape: [t.shape[0] * 4] } : t)) },
    'missing-tensor': { expect: 'missing-tensor', weights: safetensorsBytes(good2.filter((t) => t.name !== 'model.layers.1.mlp.down_proj.weight')) },
    'wrong-shape': { expect: 'bad-tensor-shape', weights: safetensorsBytes(good2.map((t) => t.name === 'model.layers.0.self_attn.k_proj.weight' ? { ...t, shape: [t.shape[1], t.shape[0] ] } : t)) },
    'unknown-model-type': { expect: 'unsupported-model', config: goodConfig.replace('"model_type": "llama"', '"model_type": "mamba"') },
    'vocab-mismatch': { expect: 'bad-tensor-shape', config: goodConfig.replace(/"vocab_size": \d+/, '"vocab_size": 1000') },
    'config-not-json': { expect: 'bad-json', config: goodConfig.slice(0, 120) },
  };
  const index = {};
  for (const [name, c] of Object.entries(cases)) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), c.config ?? goodConfig);
    writeFileSync(join(dir, 'model.safetensors'), c.weights ?? goodWeights);
    index[name] = { dir: relative(ROOT, dir), expect: c.expect };
  }
  writeJson(join(root, 'index.json'), index);
}

// ---------------------------------------------------------------- a model no GPU binds

/**
 * gpu-misfit/: the llama fixture's tokenizer with a config whose KV cache layer (2048 positions x
 * 768 heads x 256 = 1.5 GiB) is above every adapter's storage binding we test on (1 GiB: Dawn and
 * Chromium on SwiftShader), while its whole KV cache stays within gpt-chat's 4 GiB. Config only:
 * model.safetensors is a stub, as the weights (~300 MB of them) must never be fetched
 * (engine/gpu-precheck.ts refuses the model from its config.json).
 */
function makeGpuMisfit() {
  const dir = join(OUT, 'gpu-misfit');
  const llama = join(OUT, 'llama');
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(llama, 'config.json'), 'utf8'));
  Object.assign(config, { num_hidden_layers: 1, num_attention_heads: 768, num_key_value_heads: 768, head_dim: 256, max_position_embeddings: 2048 });
  writeJson(join(dir, 'config.json'), config);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(dir, f), readFileSync(join(llama, f)));
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes([{ name: 'stub', dtype: 'F32', shape: [4], bytes: new Uint8Array(16) }]));
}

// ---------------------------------------------------------------- GGUF twins

/** Fixtures converted to GGUF as llama.cpp would (tools/hf-to-gguf.mjs), same weights and dtype. */
const GGUF_TWINS = ['gpt2', 'smollm2-135m', 'smollm2-bf16', 'qwen2.5-0.5b', 'qwen2-f16', 'tinyllama', 'llama'];

function makeGgufTwins() {
  const dir = join(OUT, 'gguf');
  mkdirSync(dir, { recursive: true });
  for (const name of GGUF_TWINS) writeFileSync(join(dir, `${name}.gguf`), convertFolder(join(OUT, name), { name }));
}

/**
 * The bundled demo model (models/gpt-chat-demo, trained) as GGUF in every type the fidelity tests
 * compare with llama.cpp: gguf/gpt-chat-demo-<dtype>.gguf. Quantized files are typed as
 * llama-quantize would (the tied head in Q8_0, as its 192-element rows hold no 256-block) and
 * skipped, with a message, while this checkout has no quantizer.
 */
async function makeDemoGguf() {
  const dir = join(OUT, 'gguf');
  mkdirSync(dir, { recursive: true });
  const quantizer = await loadQuantizer();
  for (const dtype of ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k']) {
    if (dtype.startsWith('q') && !quantizer) {
      console.log(`fixtures: no src/runtime/quant/quantize.ts, skipping gpt-chat-demo-${dtype}.gguf`);
      continue;
    }
    writeFileSync(join(dir, `gpt-chat-demo-${dtype}.gguf`), convertFolder(DEMO_MODEL, { dtype, name: 'gpt-chat-demo', quantizer }));
  }
}

/**
 * Benchmark GGUF files (bench mode): the llama-15m shape in F32, F16, Q8_0, Q4_0 and Q4_K, every matrix
 * in the named type (`pure`, so the decode speed is that type's), for ours and llama.cpp's side by
 * side; the SmolLM2-135M shape in F16, Q8_0, Q4_0 and Q4_K (typed as llama-quantize would) for
 * time to first token from the cache and for decode speed and memory per type (quant-decode-bench).
 */
async function makeBenchGguf() {
  const dir = join(OUT, 'gguf');
  mkdirSync(dir, { recursive: true });
  const quantizer = await loadQuantizer();
  const write = (from, dtype, pure) => {
    if (dtype.startsWith('q') && !quantizer) return console.log(`fixtures: no src/runtime/quant/quantize.ts, skipping ${from}-${dtype}.gguf`);
    writeFileSync(join(dir, `${from.replace('-shape', '')}-${dtype}.gguf`), convertFolder(join(OUT, from), { dtype, name: from, quantizer, pure }));
  };
  for (const dtype of ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k']) write('llama-15m', dtype, true);
  for (const dtype of ['f16', 'q8_0', 'q4_0', 'q4_k']) write('smollm2-135m-shape', dtype, false);
}

// ---------------------------------------------------------------- main

const DEMO_MODEL = join(ROOT, 'models/gpt-chat-demo');
// The stamp covers what the outputs are made from: these tools, the quantizer, the demo model.
const self = [
  ...['make-fixtures.mjs', 'hf-to-gguf.mjs', 'gguf-writer.mjs', 'ts-quantizer.mjs'].map((f) => join(ROOT, 'tools', f)),
  ...QUANTIZER_SOURCES,
  ...['model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'config.json'].map((f) => join(DEMO_MODEL, f)),
].filter((f) => existsSync(f)).map((f) => readFileSync(f));
const stamp = createHash('sha256').update(Buffer.concat(self)).digest('hex');
if (!process.argv.includes('--force') && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp && existsSync(join(OUT, 'index.json'))) {
  console.log(`fixtures: up to date in ${relative(process.cwd(), OUT) || '.'}`);
} else {
  const t0 = performance.now();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const index = {};
  for (const fx of BENCH_MODE ? BENCH_FIXTURES : FIXTURES) index[fx.name] = makeFixture(fx);
  writeJson(join(OUT, 'index.json'), index);
  if (!BENCH_MODE) {
    makeBroken();
    makeGpuMisfit();
    makeGgufTwins();
    await makeDemoGguf();
  } else await makeBenchGguf();
  writeFileSync(STAMP, stamp);
  console.log(`fixtures: wrote ${(BENCH_MODE ? BENCH_FIXTURES : FIXTURES).length} checkpoints + broken ones to ${relative(process.cwd(), OUT)} in ${(performance.now() - t0).toFixed(0)} ms`);
}
