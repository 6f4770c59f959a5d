#!/usr/bin/env node
// Converts a Hugging Face model folder (config.json, model.safetensors or its shards,
// tokenizer.json, tokenizer_config.json) to one GGUF file the way llama.cpp's convert_hf_to_gguf.py
// does for our three architectures: llama.cpp's metadata keys and tensor names, llama's q/k rows
// permuted for its RoPE (LlamaModel.permute), GPT-2's Conv1D matrices transposed and its head
// written as output.weight, Llama 3 rope scaling as rope_freqs.weight, 1-D tensors in F32, the
// tokenizer as tokenizer.ggml.*; with a quantized --dtype, the matrices quantized by the runtime's
// own quantizer as llama-quantize would type them (quantTypeOf). Used by tools/make-fixtures.mjs for
// the GGUF twins of the fixtures, the demo model's GGUF files and the benchmark files, and by hand:
//
//   node tools/hf-to-gguf.mjs MODEL_DIR OUT.gguf [--dtype f32|f16|keep|q8_0|q4_0|q4_k|q6_k] [--pure]

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GGML_TYPE, ggufBytes, kv } from './gguf-writer.mjs';
import { loadQuantizer } from './ts-quantizer.mjs';

const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 };

// ---------------------------------------------------------------- safetensors in, floats out

function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  delete header.__metadata__;
  return Object.entries(header).map(([name, e]) => ({
    name, dtype: e.dtype, shape: e.shape, bytes: buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]),
  }));
}

function readCheckpoint(dir) {
  if (existsSync(join(dir, 'model.safetensors'))) return readSafetensors(join(dir, 'model.safetensors'));
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  return [...new Set(Object.values(index.weight_map))].sort().flatMap((f) => readSafetensors(join(dir, f)));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Float32Array of a safetensors tensor of dtype F32 | F16 | BF16. */
function toFloats(t) {
  const n = t.bytes.length / (t.dtype === 'F32' ? 4 : 2);
  const out = new Float32Array(n);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'F32') out[i] = view.getFloat32(4 * i, true);
    else if (t.dtype === 'F16') out[i] = halfToFloat(view.getUint16(2 * i, true));
    else { u32[0] = view.getUint16(2 * i, true) << 16; out[i] = f32[0]; }
  }
  return out;
}

function floatToHalf(x) {
  // round to nearest even, through float32 as numpy's astype(float16) does
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  const full = e > 0 ? mant : mant | 0x800000;
  const kept = (e > 0 ? e << 10 : 0) | (full >>> shift);
  const dropped = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (kept + (dropped > half || (dropped === half && (kept & 1) === 1) ? 1 : 0));
}

/** Little-endian bytes of `values` as ggml type F32, F16, or BF16 (exact only for values read from BF16). */
function encode(values, type) {
  if (type === GGML_TYPE.F32) return new Uint8Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    out[i] = type === GGML_TYPE.BF16 ? u32[0] >>> 16 : floatToHalf(values[i]);
  }
  return new Uint8Array(out.buffer);
}

// ---------------------------------------------------------------- tensors

/** convert_hf_to_gguf.py LlamaModel.permute: HF rotate-half rows to llama.cpp's adjacent pairs. */
function permute(values, shape, heads) {
  const rows = shape[0];
  const cols = shape.length > 1 ? shape[1] : 1;
  const D = rows / heads;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < D / 2; i++) {
        const from = (h * D + j * (D / 2) + i) * cols;
        out.set(values.subarray(from, from + cols), (h * D + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

function transpose(values, rows, cols) {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

const LLAMA_NAMES = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$/, 'blk.$1.attn_$2.$3'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.(weight|bias)$/, 'blk.$1.attn_output.$2'],
  [/^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/, 'blk.$1.ffn_$2.weight'],
];
const GPT2_NAMES = [
  [/^(?:transformer\.)?wte\.weight$/, 'token_embd.weight'],
  [/^(?:transformer\.)?wpe\.weight$/, 'position_embd.weight'],
  [/^(?:transformer\.)?ln_f\.(weight|bias)$/, 'output_norm.$1'],
  [/^(?:transformer\.)?h\.(\d+)\.ln_1\.(weight|bias)$/, 'blk.$1.attn_norm.$2'],
  [/^(?:transformer\.)?h\.(\d+)\.ln_2\.(weight|bias)$/, 'blk.$1.ffn_norm.$2'],
  [/^(?:transformer\.)?h\.(\d+)\.attn\.c_attn\.(weight|bias)$/, 'blk.$1.attn_qkv.$2'],
  [/^(?:transformer\.)?h\.(\d+)\.attn\.c_proj\.(weight|bias)$/, 'blk.$1.attn_output.$2'],
  [/^(?:transformer\.)?h\.(\d+)\.mlp\.c_fc\.(weight|bias)$/, 'blk.$1.ffn_up.$2'],
  [/^(?:transformer\.)?h\.(\d+)\.mlp\.c_proj\.(weight|bias)$/, 'blk.$1.ffn_down.$2'],
];

function rename(name, table) {
  for (const [re, to] of table) if (re.test(name)) return name.replace(re, to);
  return null;
}

const QUANT_TYPE = { q8_0: GGML_TYPE.Q8_0, q4_0: GGML_TYPE.Q4_0, q4_k: GGML_TYPE.Q4_K, q6_k: GGML_TYPE.Q6_K };
/** general.file_type (llama_ftype) per dtype; q4_k files are "mostly Q4_K" like Q4_K_S. */
const FILE_TYPE = { f32: 0, keep: 0, f16: 1, q4_0: 2, q8_0: 7, q4_k: 14, q6_k: 18 };

/**
 * The type of a matrix in a quantized file, after llama.cpp's llama_tensor_get_type for the types
 * we write: the head (output.weight, or token_embd.weight when tied) in Q6_K unless the file is
 * Q8_0 (not with `pure`, like llama-quantize --pure); positions never quantized; a row that the
 * block does not divide falls back (llama.cpp: Q6_K -> Q8_0, Q4_K -> Q5_0, which we do not read,
 * so Q4_0; no 32-block at all -> F16).
 */
function quantTypeOf(name, cols, dtype, { tiedHead, pure }) {
  if (name === 'position_embd.weight') return 'f16';
  let t = dtype;
  const head = name === 'output.weight' || (tiedHead && name === 'token_embd.weight');
  if (!pure && head && t !== 'q8_0') t = 'q6_k';
  if (cols % 256 !== 0 && t === 'q6_k') t = 'q8_0';
  if (cols % 256 !== 0 && t === 'q4_k') t = 'q4_0';
  return cols % 32 === 0 ? t : 'f16';
}

function ggufTensors(arch, cfg, checkpoint, { dtype, quantizer, quantize, pure }) {
  const H = cfg.num_attention_heads ?? cfg.n_head;
  const Hkv = cfg.num_key_value_heads ?? H;
  const quantized = dtype in QUANT_TYPE;
  if (quantized && !quantizer) throw new Error(`hf-to-gguf: dtype ${dtype} needs the quantizer (src/runtime/quant/quantize.ts, see tools/ts-quantizer.mjs)`);
  const named = checkpoint.map((t) => ({ t, name: rename(t.name, arch === 'gpt2' ? GPT2_NAMES : LLAMA_NAMES) })).filter((x) => x.name !== null);
  // GPT-2's head is its embedding, written again as output.weight (llama.cpp's gpt2 reads both)
  const tiedHead = arch !== 'gpt2' && !named.some((x) => x.name === 'output.weight');
  const out = [];
  const push = (name, shape, values, sourceDtype) => {
    const cols = shape.length > 1 ? shape[1] : shape[0];
    let type;
    let bytes;
    const chosen = shape.length === 2 ? quantize?.(name, values, shape[0], cols) : null;
    if (chosen) ({ type, bytes } = chosen);
    // llama.cpp keeps 1-D tensors (norms, biases) in F32 whatever the file type
    else if (shape.length === 1) type = GGML_TYPE.F32;
    else if (quantized) {
      const q = quantTypeOf(name, cols, dtype, { tiedHead, pure });
      if (q === 'f16') type = GGML_TYPE.F16;
      else {
        type = QUANT_TYPE[q];
        bytes = quantizer(q, values, shape[0], cols, name);
      }
    } else type = dtype === 'keep' ? { F32: GGML_TYPE.F32, F16: GGML_TYPE.F16, BF16: GGML_TYPE.BF16 }[sourceDtype] : dtype === 'f16' ? GGML_TYPE.F16 : GGML_TYPE.F32;
    out.push({ name, dims: [...shape].reverse(), type, bytes: bytes ?? encode(values, type) });
  };
  for (const { t, name } of named) {
    // rotary_emb.inv_freq, attn.bias / masked_bias buffers and a tied lm_head of GPT-2 have no name (null) and were dropped
    let values = toFloats(t);
    let shape = t.shape;
    if (arch === 'llama' && /attn_q\./.test(name)) values = permute(values, shape, H);
    if (arch === 'llama' && /attn_k\./.test(name)) values = permute(values, shape, Hkv);
    if (arch === 'gpt2' && shape.length === 2 && /attn_qkv|attn_output|ffn_up|ffn_down/.test(name)) {
      values = transpose(values, shape[0], shape[1]);
      shape = [shape[1], shape[0]];
    }
    push(name, shape, values, t.dtype);
    if (arch === 'gpt2' && name === 'token_embd.weight') push('output.weight', shape, values, t.dtype);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Llama 3 rope scaling as llama.cpp's frequency factors (LlamaModel.generate_extra_tensors). */
function ropeFreqs(cfg, D) {
  const s = cfg.rope_scaling;
  if (!s || (s.rope_type ?? s.type) !== 'llama3') return null;
  const base = cfg.rope_theta ?? 10000;
  const factors = new Float32Array(D / 2);
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  for (let i = 0; i < D / 2; i++) {
    const freq = 1 / base ** ((2 * i) / D);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) factors[i] = 1;
    else if (wavelen > lowWavelen) factors[i] = s.factor;
    else {
      const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      factors[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return { name: 'rope_freqs.weight', dims: [D / 2], type: GGML_TYPE.F32, bytes: new Uint8Array(factors.buffer) };
}

// ---------------------------------------------------------------- tokenizer

function mergeText(m) {
  return Array.isArray(m) ? `${m[0]} ${m[1]}` : m;
}

/** The llama.cpp pre-tokenizer name of a byte-level tokenizer.json (convert_hf_to_gguf detects it by a hash). */
function preOf(tok) {
  const text = JSON.stringify(tok.pre_tokenizer ?? {});
  if (text.includes('Digits')) return 'smollm';
  if (text.includes('\\\\p{N}{1,3}')) return 'llama-bpe';
  if (text.includes('Split')) return 'qwen2';
  return 'gpt-2';
}

export function tokenizerMetadata(dir, V) {
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const tcfg = existsSync(join(dir, 'tokenizer_config.json')) ? JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) : {};
  const vocab = tok.model.vocab;
  const added = new Map((tok.added_tokens ?? []).map((t) => [t.id, t]));
  const tokens = [];
  const types = [];
  for (const [t, id] of Object.entries(vocab)) tokens[id] = t;
  for (const t of added.values()) tokens[t.id] = t.content;
  const spm = tok.model.byte_fallback === true;
  const merges = tok.model.merges.map(mergeText);
  // SentencePiece scores from the merge ranks: a piece scores minus the rank of its first merge,
  // so that ordering pieces by score gives back exactly these merges (see runtime/gguf-tokenizer.ts)
  const rank = new Map();
  merges.forEach((m, i) => {
    const piece = m.replace(' ', '');
    if (!rank.has(piece)) rank.set(piece, i);
  });
  const scores = [];
  for (let i = 0; i < V; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types.push(TOKEN_TYPE.UNUSED);
      scores.push(0);
      continue;
    }
    const a = added.get(i);
    if (a) types.push(a.special ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED);
    else if (spm && /^<0x[0-9A-F]{2}>$/.test(tokens[i])) types.push(TOKEN_TYPE.BYTE);
    else types.push(TOKEN_TYPE.NORMAL);
    scores.push(a || types[i] === TOKEN_TYPE.BYTE ? 0 : rank.has(tokens[i]) ? -rank.get(tokens[i]) : -1e6 - i);
  }
  const unk = spm && tok.model.unk_token ? tokens.indexOf(tok.model.unk_token) : -1;
  if (unk >= 0 && !added.get(unk)?.special) types[unk] = TOKEN_TYPE.UNKNOWN;
  const idOf = (v) => {
    const s = typeof v === 'string' ? v : v?.content;
    const i = s === undefined ? -1 : tokens.indexOf(s);
    return i >= 0 ? i : null;
  };
  const md = [kv.str('tokenizer.ggml.model', spm ? 'llama' : 'gpt2')];
  if (!spm) md.push(kv.str('tokenizer.ggml.pre', preOf(tok)));
  md.push(kv.arr('tokenizer.ggml.tokens', 'string', tokens));
  if (spm) md.push(kv.arr('tokenizer.ggml.scores', 'float32', scores));
  md.push(kv.arr('tokenizer.ggml.token_type', 'int32', types));
  if (!spm) md.push(kv.arr('tokenizer.ggml.merges', 'string', merges));
  for (const [field, key] of [['bos_token', 'bos'], ['eos_token', 'eos'], ['unk_token', 'unknown'], ['pad_token', 'padding']]) {
    const id = idOf(tcfg[field]);
    if (id !== null) md.push(kv.u32(`tokenizer.ggml.${key}_token_id`, id));
  }
  const bosFromTemplate = JSON.stringify(tok.post_processor ?? {}).includes('TemplateProcessing');
  md.push(kv.bool('tokenizer.ggml.add_bos_token', typeof tcfg.add_bos_token === 'boolean' ? tcfg.add_bos_token : bosFromTemplate));
  if (spm) md.push(kv.bool('tokenizer.ggml.add_space_prefix', JSON.stringify(tok.normalizer ?? {}).includes('Prepend')));
  if (typeof tcfg.chat_template === 'string') md.push(kv.str('tokenizer.chat_template', tcfg.chat_template));
  return md;
}

// ---------------------------------------------------------------- the file

/**
 * GGUF bytes of the Hugging Face folder `dir`. `dtype`: 'f32' or 'f16' for every matrix, 'keep'
 * (each matrix in its checkpoint dtype: F32, F16 or BF16), or a quantized file type 'q8_0' |
 * 'q4_0' | 'q4_k' | 'q6_k' (matrices typed as llama-quantize would, see quantTypeOf; `pure`: every
 * matrix in that type), which needs `quantizer` (the runtime's quantizeMatrix: tools/ts-quantizer.mjs).
 * `quantize(name, values, rows, cols)`, when given, may return `{ type, bytes }` for a matrix (GGUF
 * name, float32 values in (rows, cols) order after llama's permutation) and so choose each matrix's
 * type itself, as the tests do. Tensors are written in name order, those named in `first` before
 * the rest (llama.cpp's converter writes GPT-2's token_embd.weight before its copy output.weight).
 * `edit(metadata)` returns the metadata entries to write instead (a test's damaged file).
 */
export function convertFolder(dir, { dtype = 'keep', name, quantizer, quantize, pure = false, first = [], edit = (md) => md } = {}) {
  if (!(dtype in FILE_TYPE)) throw new Error(`hf-to-gguf: dtype ${dtype} is not one of ${Object.keys(FILE_TYPE).join(', ')}`);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const arch = { llama: 'llama', mistral: 'llama', qwen2: 'qwen2', gpt2: 'gpt2' }[cfg.model_type];
  if (!arch) throw new Error(`hf-to-gguf: model_type ${cfg.model_type} is not supported`);
  const a = (k) => `${arch}.${k}`;
  const md = [kv.str('general.architecture', arch), kv.str('general.name', name ?? cfg.model_type)];
  const tensors = ggufTensors(arch, cfg, readCheckpoint(dir), { dtype, quantizer, quantize, pure });
  const V = tensors.find((t) => t.name === 'token_embd.weight').dims[1];
  if (arch === 'gpt2') {
    md.push(
      kv.u32(a('context_length'), cfg.n_positions ?? cfg.n_ctx), kv.u32(a('embedding_length'), cfg.n_embd),
      kv.u32(a('feed_forward_length'), cfg.n_inner ?? 4 * cfg.n_embd), kv.u32(a('block_count'), cfg.n_layer),
      kv.u32(a('attention.head_count'), cfg.n_head), kv.f32(a('attention.layer_norm_epsilon'), cfg.layer_norm_epsilon ?? 1e-5),
    );
  } else {
    const H = cfg.num_attention_heads;
    const D = cfg.head_dim ?? cfg.hidden_size / H;
    md.push(
      kv.u32(a('context_length'), cfg.max_position_embeddings), kv.u32(a('embedding_length'), cfg.hidden_size),
      kv.u32(a('feed_forward_length'), cfg.intermediate_size), kv.u32(a('block_count'), cfg.num_hidden_layers),
      kv.u32(a('attention.head_count'), H), kv.u32(a('attention.head_count_kv'), cfg.num_key_value_heads ?? H),
      kv.f32(a('rope.freq_base'), cfg.rope_theta ?? 10000), kv.f32(a('attention.layer_norm_rms_epsilon'), cfg.rms_norm_eps ?? 1e-6),
      kv.u32(a('rope.dimension_count'), D),
    );
    if (D !== cfg.hidden_size / H) md.push(kv.u32(a('attention.key_length'), D), kv.u32(a('attention.value_length'), D));
    const s = cfg.rope_scaling;
    if (s && (s.rope_type ?? s.type) === 'linear') md.push(kv.str(a('rope.scaling.type'), 'linear'), kv.f32(a('rope.scaling.factor'), s.factor));
    const freqs = ropeFreqs(cfg, D);
    if (freqs) tensors.unshift(freqs);
  }
  md.push(kv.u32('general.file_type', FILE_TYPE[dtype]), ...tokenizerMetadata(dir, V));
  const rank = (t) => (first.includes(t.name) ? first.indexOf(t.name) : first.length);
  return ggufBytes({ metadata: edit(md), tensors: tensors.map((t, i) => ({ t, i })).sort((x, y) => rank(x.t) - rank(y.t) || x.i - y.i).map((x) => x.t) });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, out] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--dtype');
  const i = process.argv.indexOf('--dtype');
  if (!dir || !out) {
    console.error('usage: node tools/hf-to-gguf.mjs MODEL_DIR OUT.gguf [--dtype f32|f16|keep|q8_0|q4_0|q4_k|q6_k] [--pure]');
    process.exit(2);
  }
  const dtype = i > 0 ? process.argv[i + 1] : 'keep';
  const quantizer = dtype in QUANT_TYPE ? await loadQuantizer() : undefined;
  writeFileSync(out, convertFolder(dir, { dtype, quantizer, pure: process.argv.includes('--pure') }));
  console.log(`hf-to-gguf: wrote ${out}`);
}
