import { GptError } from '../../errors.ts';
import type { ModelConfig } from './config.ts';
import { checkConfigLimits } from './config-limits.ts';
import { describe, parseJsonObject, type JsonObject } from '../../formats/json.ts';

/** The `model_type` values of config.json we can load. */
const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama', 'mistral', 'qwen2'] as const;

/**
 * Normalises a Hugging Face config.json into a {@link ModelConfig}. Throws GptError 'bad-json' when
 * the text is not JSON, 'unsupported-model' for a model_type we do not implement, and 'bad-config'
 * naming the field that is missing or unusable.
 */
export function parseModelConfig(text: string, file = 'config.json'): ModelConfig {
  const raw = parseJsonObject(text, file);
  const fields = new Fields(raw, file);
  const modelType = raw['model_type'];
  switch (modelType) {
    case 'gpt2':
      return gpt2Config(fields);
    case 'llama':
    case 'mistral':
    case 'qwen2':
      return llamaConfig(fields, modelType);
    default:
      throw new GptError(
        'unsupported-model',
        `${file} model_type ${describe(modelType)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}. ` +
          `Hint: pick a checkpoint of one of these families (GPT-2, Llama, SmolLM2, TinyLlama, Mistral, Qwen2/2.5).`,
      );
  }
}

function gpt2Config(f: Fields): ModelConfig {
  const C = f.int('n_embd');
  const H = f.int('n_head');
  if (C % H !== 0) f.fail('n_head', `must divide n_embd ${C}`);
  const act = f.raw['activation_function'] ?? 'gelu_new';
  // gelu_new and gelu_pytorch_tanh are the same tanh approximation; exact-erf "gelu" is not.
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') f.fail('activation_function', 'must be "gelu_new" (the tanh GELU)');
  const maxPositions = f.has('n_positions') ? f.int('n_positions') : f.int('n_ctx');
  const dims = { L: f.int('n_layer'), C, H, Hkv: H, D: C / H, F: f.raw['n_inner'] == null ? 4 * C : f.int('n_inner'), V: f.int('vocab_size'), maxPositions };
  checkConfigLimits(dims, f.file, {
    L: 'n_layer', C: 'n_embd', H: 'n_head', Hkv: 'n_head', D: 'n_embd / n_head', F: 'n_inner', V: 'vocab_size', maxPositions: f.has('n_positions') ? 'n_positions' : 'n_ctx',
  });
  return {
    modelType: 'gpt2',
    ...dims,
    norm: 'layernorm',
    normEps: f.num('layer_norm_epsilon', 1e-5),
    position: 'learned',
    ropeInvFreq: new Float32Array(0),
    mlp: 'gelu',
    qkvBias: true,
    projBias: true,
    tiedHead: true,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
  };
}

function llamaConfig(f: Fields, modelType: 'llama' | 'mistral' | 'qwen2'): ModelConfig {
  const C = f.int('hidden_size');
  const H = f.int('num_attention_heads');
  const Hkv = f.has('num_key_value_heads') ? f.int('num_key_value_heads') : H;
  if (H % Hkv !== 0) f.fail('num_key_value_heads', `must divide num_attention_heads ${H}`);
  let D: number;
  if (f.has('head_dim')) D = f.int('head_dim');
  else if (C % H === 0) D = C / H;
  else f.fail('num_attention_heads', `must divide hidden_size ${C} when head_dim is not given`);
  if (D % 2 !== 0) f.fail(f.has('head_dim') ? 'head_dim' : 'hidden_size', `gives head size ${D}; rotary embeddings need an even head size`);
  const act = f.raw['hidden_act'] ?? 'silu';
  if (act !== 'silu') f.fail('hidden_act', 'must be "silu" (SwiGLU MLP)');
  if (f.bool('mlp_bias', false)) f.fail('mlp_bias', 'must be false: biases on gate/up/down projections are not supported');
  // HF defaults per class: LlamaConfig 2048, MistralConfig 4096 * 32, Qwen2Config 32768.
  const defaultMax = modelType === 'llama' ? 2048 : modelType === 'mistral' ? 131072 : 32768;
  let maxPositions = f.has('max_position_embeddings') ? f.int('max_position_embeddings') : defaultMax;
  // Mistral's sliding window attends to the last `sliding_window` tokens only. Our attention is
  // full causal, which is the same thing as long as the context never exceeds the window.
  const window = f.raw['sliding_window'];
  const windowOn = modelType === 'mistral' || (modelType === 'qwen2' && f.bool('use_sliding_window', false));
  if (windowOn && window != null) maxPositions = Math.min(maxPositions, f.int('sliding_window'));
  const theta = f.num('rope_theta', 10000);
  const dims = { L: f.int('num_hidden_layers'), C, H, Hkv, D, F: f.int('intermediate_size'), V: f.int('vocab_size'), maxPositions };
  checkConfigLimits(dims, f.file, {
    L: 'num_hidden_layers', C: 'hidden_size', H: 'num_attention_heads', Hkv: 'num_key_value_heads', D: 'head_dim', F: 'intermediate_size', V: 'vocab_size', maxPositions: 'max_position_embeddings',
  });
  return {
    modelType,
    ...dims,
    norm: 'rmsnorm',
    normEps: f.num('rms_norm_eps', 1e-6),
    position: 'rope',
    ropeInvFreq: ropeInvFreq(D, theta, f.raw['rope_scaling'], f.file),
    mlp: 'swiglu',
    qkvBias: modelType === 'qwen2' || f.bool('attention_bias', false),
    projBias: false,
    tiedHead: f.bool('tie_word_embeddings', false),
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
  };
}

/**
 * Rotary inverse frequencies inv[i] = 1 / theta^(2i / D), i < D/2, with `rope_scaling` applied the
 * way transformers' `modeling_rope_utils.py` does (`_compute_linear_scaling_rope_parameters`,
 * `_compute_llama3_parameters`). Computed in float64 and rounded once to float32.
 */
export function ropeInvFreq(D: number, theta: number, scaling: unknown, file = 'config.json'): Float32Array {
  const fields = new Fields({ rope_scaling: scaling }, file);
  const inv = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / D);
  if (scaling == null) return Float32Array.from(inv);
  if (typeof scaling !== 'object' || Array.isArray(scaling)) fields.fail('rope_scaling', 'must be null or an object');
  const s = new Fields(scaling as JsonObject, fields.file, 'rope_scaling.');
  const type = s.raw['rope_type'] ?? s.raw['type'];
  if (type === 'default') return Float32Array.from(inv);
  if (type === 'linear') {
    const factor = s.num('factor');
    return Float32Array.from(inv, (x) => x / factor);
  }
  if (type === 'llama3') {
    const factor = s.num('factor');
    const low = s.num('low_freq_factor');
    const high = s.num('high_freq_factor');
    const oldContext = s.num('original_max_position_embeddings');
    if (!(high > low)) s.fail('high_freq_factor', `must be greater than low_freq_factor ${low}`);
    const lowFreqWavelen = oldContext / low;
    const highFreqWavelen = oldContext / high;
    return Float32Array.from(inv, (x) => {
      const wavelen = (2 * Math.PI) / x;
      if (wavelen < highFreqWavelen) return x; // high frequencies: unchanged
      if (wavelen > lowFreqWavelen) return x / factor; // low frequencies: scaled like linear
      const smooth = (oldContext / wavelen - low) / (high - low);
      return (1 - smooth) * (x / factor) + smooth * x;
    });
  }
  return fields.fail(
    'rope_scaling',
    `has type ${describe(type)}; supported: null, "default", "linear", "llama3" (dynamic, yarn, longrope are not implemented)`,
  );
}

/** Typed reads of config fields with errors that name the field and the file. */
class Fields {
  constructor(
    readonly raw: JsonObject,
    readonly file: string,
    private readonly prefix = '',
  ) {}

  has(key: string): boolean {
    return this.raw[key] != null;
  }

  fail(key: string, what: string): never {
    const found = key in this.raw ? `found ${describe(this.raw[key])}` : 'it is missing';
    throw new GptError(
      'bad-config',
      `${this.file} field ${this.prefix}${key} ${what}; ${found}. Hint: check that ${this.file} belongs to this checkpoint and is unedited.`,
    );
  }

  /** A positive integer. */
  int(key: string): number {
    const v = this.raw[key];
    if (!Number.isSafeInteger(v) || (v as number) <= 0) this.fail(key, 'must be a positive integer');
    return v as number;
  }

  /** A positive finite number; `fallback` when absent (required when no fallback). */
  num(key: string, fallback?: number): number {
    const v = this.raw[key];
    if (v == null && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, 'must be a positive number');
    return v as number;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v == null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v as boolean;
  }

  tokenId(key: string): number | null {
    const v = this.raw[key];
    if (v == null) return null;
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(key, 'must be a token id (a non-negative integer) or null');
    return v as number;
  }

  tokenIds(key: string): number[] {
    const v = this.raw[key];
    if (v == null) return [];
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) this.fail(key, 'must be a token id or an array of token ids');
    return ids as number[];
  }
}
