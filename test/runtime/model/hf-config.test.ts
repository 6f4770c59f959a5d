import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig, ropeInvFreq } from '../../../src/runtime/model/hf-config.ts';
import { GptError } from '../../../src/errors.ts';

const ROOT = join(import.meta.dirname, '../../..');
const index = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/generated/index.json'), 'utf8')) as Record<string, { dir: string; modelType: string; V: number }>;
const configText = (name: string) => readFileSync(join(ROOT, index[name].dir, 'config.json'), 'utf8');

function fails(text: string): GptError {
  try {
    parseModelConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(GptError);
    return err as GptError;
  }
  throw new Error('expected a GptError');
}

const llama = {
  model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  intermediate_size: 128, vocab_size: 300, max_position_embeddings: 256, rms_norm_eps: 1e-5, hidden_act: 'silu',
};
const cfg = (over: Record<string, unknown>) => JSON.stringify({ ...llama, ...over });

describe('parseModelConfig on the fixtures', () => {
  // [fixture, L, C, H, Hkv, D, F, tied, qkvBias, eos]
  const cases: [string, number, number, number, number, number, number, boolean, boolean][] = [
    ['gpt2', 2, 64, 4, 4, 16, 256, true, true],
    ['distilgpt2', 1, 64, 4, 4, 16, 256, true, true],
    ['gpt2-prefixed', 2, 64, 4, 4, 16, 256, true, true],
    ['smollm2-135m', 2, 96, 6, 2, 16, 160, true, false],
    ['smollm2-360m', 2, 48, 3, 1, 16, 128, true, false],
    ['smollm2-bf16', 2, 96, 6, 2, 16, 160, true, false],
    ['qwen2.5-0.5b', 2, 64, 4, 2, 16, 172, true, true],
    ['qwen2-f16', 2, 64, 4, 2, 16, 172, true, true],
    ['tinyllama', 2, 128, 8, 2, 16, 172, false, false],
    ['llama', 2, 64, 4, 2, 16, 128, false, false],
    ['llama-sharded', 2, 64, 4, 2, 16, 128, false, false],
  ];
  it.each(cases)('%s', (name, L, C, H, Hkv, D, F, tied, qkvBias) => {
    const c = parseModelConfig(configText(name));
    const gpt2 = index[name].modelType === 'gpt2';
    expect({ L: c.L, C: c.C, H: c.H, Hkv: c.Hkv, D: c.D, F: c.F, V: c.V, maxPositions: c.maxPositions }).toEqual({ L, C, H, Hkv, D, F, V: index[name].V, maxPositions: 256 });
    expect(c.modelType).toBe(index[name].modelType);
    expect(c.tiedHead).toBe(tied);
    expect(c.qkvBias).toBe(qkvBias);
    expect(c.projBias).toBe(gpt2);
    expect(c.norm).toBe(gpt2 ? 'layernorm' : 'rmsnorm');
    expect(c.mlp).toBe(gpt2 ? 'gelu' : 'swiglu');
    expect(c.position).toBe(gpt2 ? 'learned' : 'rope');
    expect(c.ropeInvFreq.length).toBe(gpt2 ? 0 : D / 2);
    expect(c.eosTokenIds.length).toBeGreaterThan(0);
  });

  it('reads the ids and epsilons as given', () => {
    const q = parseModelConfig(configText('qwen2.5-0.5b'));
    const raw = JSON.parse(configText('qwen2.5-0.5b'));
    expect(q.normEps).toBe(1e-6);
    expect(q.bosTokenId).toBe(raw.bos_token_id);
    expect(q.eosTokenIds).toEqual([raw.eos_token_id]);
    expect(q.ropeInvFreq[1]).toBeCloseTo(1 / Math.pow(1e6, 2 / 16), 7);
    const l = parseModelConfig(configText('llama'));
    expect(l.eosTokenIds).toEqual(JSON.parse(configText('llama')).eos_token_id);
    expect(l.eosTokenIds.length).toBe(3);
    expect(parseModelConfig(configText('gpt2')).normEps).toBe(1e-5);
  });
});

describe('parseModelConfig rules', () => {
  it('gpt2: n_inner null is 4 n_embd, n_ctx stands in for n_positions', () => {
    const c = parseModelConfig(JSON.stringify({ model_type: 'gpt2', n_embd: 32, n_layer: 1, n_head: 2, n_ctx: 64, vocab_size: 10, n_inner: null, eos_token_id: 9 }));
    expect(c.F).toBe(128);
    expect(c.maxPositions).toBe(64);
    expect(c.eosTokenIds).toEqual([9]);
    expect(c.bosTokenId).toBeNull();
  });

  it('llama defaults: Hkv = H, D = C / H, theta 10000, untied', () => {
    const c = parseModelConfig(cfg({ num_key_value_heads: undefined }));
    expect(c.Hkv).toBe(4);
    expect(c.D).toBe(16);
    expect(c.tiedHead).toBe(false);
    expect(Array.from(c.ropeInvFreq.slice(0, 2))).toEqual([1, Math.fround(1 / Math.pow(10000, 2 / 16))]);
  });

  it('explicit head_dim wins over hidden_size / heads', () => {
    expect(parseModelConfig(cfg({ head_dim: 32 })).D).toBe(32);
  });

  it('attention_bias turns on q/k/v biases for llama; qwen2 always has them', () => {
    expect(parseModelConfig(cfg({ attention_bias: true })).qkvBias).toBe(true);
    expect(parseModelConfig(cfg({ model_type: 'qwen2' })).qkvBias).toBe(true);
  });

  it('mistral: the sliding window caps the context so full causal attention stays exact', () => {
    expect(parseModelConfig(cfg({ model_type: 'mistral', max_position_embeddings: 32768, sliding_window: 4096 })).maxPositions).toBe(4096);
    expect(parseModelConfig(cfg({ model_type: 'mistral', max_position_embeddings: 32768, sliding_window: null })).maxPositions).toBe(32768);
  });

  it('linear rope scaling divides every frequency by the factor', () => {
    const plain = ropeInvFreq(16, 10000, null);
    const scaled = ropeInvFreq(16, 10000, { type: 'linear', factor: 4 });
    for (let i = 0; i < 8; i++) expect(scaled[i]).toBeCloseTo(plain[i] / 4, 9);
  });

  it('llama3 rope scaling keeps high frequencies, divides low ones and blends the middle (as transformers)', () => {
    const scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    const got = ropeInvFreq(16, 500000, scaling);
    const base = Array.from({ length: 8 }, (_, i) => 1 / Math.pow(500000, (2 * i) / 16));
    // wavelengths 2 pi / inv: i=0 6.3 (< 16: kept), i=1 ~16.9 (between 16 and 64: smoothed), i>=2 > 64 (divided by 8)
    expect(got[0]).toBe(Math.fround(base[0]));
    const smooth = (64 / ((2 * Math.PI) / base[1]) - 1) / (4 - 1);
    expect(got[1]).toBe(Math.fround((1 - smooth) * (base[1] / 8) + smooth * base[1]));
    expect(got[1]).toBeLessThan(base[1] * 0.99);
    expect(got[1]).toBeGreaterThan(base[1] / 8);
    for (let i = 2; i < 8; i++) expect(got[i]).toBe(Math.fround(base[i] / 8));
    // the fixture uses the same scaling
    const fixture = parseModelConfig(configText('llama'));
    expect(Array.from(fixture.ropeInvFreq)).toEqual(Array.from(got));
  });

  it('refuses text that is not JSON with bad-json naming the file', () => {
    const e = fails('{"model_type": "llama",');
    expect(e.code).toBe('bad-json');
    expect(e.message).toMatch(/^config\.json is not valid JSON/);
    expect(() => parseModelConfig('[1]', 'other.json')).toThrow(/other\.json must hold a JSON object/);
  });

  it('refuses an unknown model_type and lists the supported ones', () => {
    const e = fails(cfg({ model_type: 'mamba' }));
    expect(e.code).toBe('unsupported-model');
    expect(e.message).toContain('"mamba"');
    expect(e.message).toContain('gpt2, llama, mistral, qwen2');
  });

  it('names a missing or invalid field', () => {
    let e = fails(cfg({ hidden_size: undefined }));
    expect(e.code).toBe('bad-config');
    expect(e.message).toMatch(/config\.json field hidden_size must be a positive integer; it is missing/);
    e = fails(cfg({ num_hidden_layers: '2' }));
    expect(e.message).toMatch(/num_hidden_layers must be a positive integer; found string "2"/);
    e = fails(cfg({ num_key_value_heads: 3 }));
    expect(e.message).toMatch(/num_key_value_heads must divide num_attention_heads 4; found number 3/);
    e = fails(cfg({ hidden_act: 'gelu' }));
    expect(e.message).toMatch(/hidden_act must be "silu"/);
    e = fails(cfg({ eos_token_id: [2, 'x'] }));
    expect(e.message).toMatch(/eos_token_id/);
    e = fails(JSON.stringify({ model_type: 'gpt2', n_embd: 30, n_layer: 1, n_head: 4, n_positions: 8, vocab_size: 5 }));
    expect(e.message).toMatch(/n_head must divide n_embd 30/);
    e = fails(JSON.stringify({ model_type: 'gpt2', n_embd: 32, n_layer: 1, n_head: 4, n_positions: 8, vocab_size: 5, activation_function: 'relu' }));
    expect(e.message).toMatch(/activation_function must be "gelu_new"/);
  });

  it('refuses rope scaling types it does not implement', () => {
    const e = fails(cfg({ rope_scaling: { rope_type: 'yarn', factor: 4 } }));
    expect(e.code).toBe('bad-config');
    expect(e.message).toMatch(/rope_scaling has type string "yarn"; supported: null, "default", "linear", "llama3"/);
    expect(fails(cfg({ rope_scaling: { rope_type: 'llama3', factor: 8 } })).message).toMatch(/rope_scaling\.low_freq_factor must be a positive number; it is missing/);
  });
});
