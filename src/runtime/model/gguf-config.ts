import { GptError } from '../../errors.ts';
import type { GgufTensorInfo } from '../../formats/gguf.ts';
import type { GgufMetadata } from '../../formats/gguf-metadata.ts';
import type { ModelConfig } from './config.ts';
import { checkConfigLimits } from './config-limits.ts';
import { ropeInvFreq } from './hf-config.ts';

/** The `general.architecture` values of GGUF files we can load (llama.cpp's names). */
export const SUPPORTED_GGUF_ARCHITECTURES = ['llama', 'qwen2', 'gpt2'] as const;
type GgufArchitecture = (typeof SUPPORTED_GGUF_ARCHITECTURES)[number];

/**
 * Normalises the metadata of a GGUF file into a {@link ModelConfig}, as llama.cpp reads it
 * (src/llama-model.cpp `load_hparams`): `{arch}.block_count`, `{arch}.embedding_length`,
 * `{arch}.attention.head_count(_kv)`, `{arch}.feed_forward_length`, `{arch}.context_length`, the
 * norm epsilon, `{arch}.rope.freq_base` and `.rope.scaling.*`. The vocabulary size is the row count
 * of `token_embd.weight`; the head is tied when the file has no `output.weight`.
 *
 * Throws GptError 'unsupported-model' naming an architecture we do not implement, 'bad-gguf'
 * (through {@link GgufMetadata}) for a missing or mistyped key, 'bad-config' for values we cannot use.
 */
export function ggufModelConfig(meta: GgufMetadata, tensors: readonly GgufTensorInfo[]): ModelConfig {
  const arch = meta.string('general.architecture');
  if (!(SUPPORTED_GGUF_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new GptError(
      'unsupported-model',
      `${meta.file} is a GGUF of architecture "${arch}", which gpt-chat does not run; supported: ${SUPPORTED_GGUF_ARCHITECTURES.join(', ')}. ` +
        `Hint: pick a GGUF of a Llama-family (Llama, SmolLM2, TinyLlama, Mistral), Qwen2/2.5 or GPT-2 model.`,
    );
  }
  const a = arch as GgufArchitecture;
  const k = (key: string) => `${a}.${key}`;
  const fail = (key: string, what: string): never => {
    throw new GptError('bad-config', `${meta.file}: metadata ${key} ${what}. Hint: the file may have been converted wrongly; convert the model again with a current llama.cpp.`);
  };
  const positive = (key: string, fallback?: number): number => {
    const v = meta.uint(key, fallback);
    if (v <= 0) fail(key, `is ${v}; it must be positive`);
    return v;
  };

  const embd = tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd || embd.shape.length !== 2) {
    throw new GptError('missing-tensor', `${meta.file} has no 2-D tensor token_embd.weight (the token embedding). Hint: the file is not a complete model; vocabulary-only GGUFs cannot be run.`);
  }
  const V = embd.shape[0]!;
  const C = positive(k('embedding_length'));
  const L = positive(k('block_count'));
  const H = positive(k('attention.head_count'));
  const Hkv = positive(k('attention.head_count_kv'), H);
  const F = positive(k('feed_forward_length'));
  const maxPositions = positive(k('context_length'));
  if (H % Hkv !== 0) fail(k('attention.head_count_kv'), `is ${Hkv}; it must divide ${k('attention.head_count')} ${H}`);
  let D = C / H;
  if (meta.has(k('attention.key_length'))) {
    D = positive(k('attention.key_length'));
    const v = meta.uint(k('attention.value_length'), D);
    if (v !== D) fail(k('attention.value_length'), `is ${v} but attention.key_length is ${D}; different key and value head sizes are not supported`);
  } else if (!Number.isInteger(D)) {
    fail(k('attention.head_count'), `is ${H}, which does not divide ${k('embedding_length')} ${C}`);
  }
  checkConfigLimits({ L, C, H, Hkv, D, F, V, maxPositions }, meta.file, {
    L: k('block_count'), C: k('embedding_length'), H: k('attention.head_count'), Hkv: k('attention.head_count_kv'), D: k('attention.key_length'),
    F: k('feed_forward_length'), V: 'token_embd.weight rows', maxPositions: k('context_length'),
  });
  const vocabSize = meta.uint(k('vocab_size'), V);
  if (vocabSize !== V) fail(k('vocab_size'), `is ${vocabSize} but token_embd.weight has ${V} rows`);
  const tiedHead = !tensors.some((t) => t.name === 'output.weight');
  const bos = meta.has('tokenizer.ggml.bos_token_id') ? meta.uint('tokenizer.ggml.bos_token_id') : null;
  const eos = meta.has('tokenizer.ggml.eos_token_id') ? [meta.uint('tokenizer.ggml.eos_token_id')] : [];
  const common = { modelType: a, L, C, H, Hkv, D, F, V, maxPositions, tiedHead, bosTokenId: bos, eosTokenIds: eos };

  if (a === 'gpt2') {
    return {
      ...common,
      norm: 'layernorm',
      normEps: meta.float(k('attention.layer_norm_epsilon')),
      position: 'learned',
      ropeInvFreq: new Float32Array(0),
      mlp: 'gelu',
      qkvBias: true,
      projBias: true,
    };
  }
  if (D % 2 !== 0) fail(k('attention.head_count'), `gives head size ${D}; rotary embeddings need an even head size`);
  const ropeDims = meta.uint(k('rope.dimension_count'), D);
  if (ropeDims !== D) fail(k('rope.dimension_count'), `is ${ropeDims} but the head size is ${D}; partial rotary embeddings are not supported`);
  return {
    ...common,
    norm: 'rmsnorm',
    normEps: meta.float(k('attention.layer_norm_rms_epsilon')),
    position: 'rope',
    ropeInvFreq: ropeInvFreq(D, meta.float(k('rope.freq_base'), 10000), ropeScaling(meta, a), meta.file),
    mlp: 'swiglu',
    // Qwen2 always has q/k/v biases; a Llama with attention_bias has them on q, k, v and o.
    qkvBias: a === 'qwen2' || tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
    projBias: false,
  };
}

/** `{arch}.rope.scaling.type` as the rope_scaling object of config.json that ropeInvFreq reads. */
function ropeScaling(meta: GgufMetadata, arch: string): unknown {
  const type = meta.string(`${arch}.rope.scaling.type`, 'none');
  if (type === 'none') return null;
  if (type === 'linear') return { type: 'linear', factor: meta.float(`${arch}.rope.scaling.factor`) };
  throw new GptError(
    'bad-config',
    `${meta.file}: metadata ${arch}.rope.scaling.type is "${type}"; supported: none, linear (llama3-style scaling comes as the rope_freqs.weight tensor). ` +
      `Hint: pick a model without ${type} context extension.`,
  );
}

/**
 * Applies llama.cpp's `rope_freqs.weight` (Llama 3.1+ frequency factors: one per rotary pair, each
 * frequency divided by its factor) to a config's inverse frequencies.
 */
export function withRopeFactors(cfg: ModelConfig, factors: Float32Array, file: string): ModelConfig {
  if (factors.length !== cfg.ropeInvFreq.length) {
    throw new GptError('bad-tensor-shape', `${file}: rope_freqs.weight has ${factors.length} factors but the head size ${cfg.D} needs ${cfg.ropeInvFreq.length}.`);
  }
  return { ...cfg, ropeInvFreq: Float32Array.from(cfg.ropeInvFreq, (x, i) => x / factors[i]!) };
}
