// A Llama-shaped model folder with every weight zero, written to a temporary folder: a checkpoint
// of a realistic size (tens of MB) for tests that time decode steps, at no cost to the fixture
// generation. Zero weights run the same kernels for the same time as trained ones; the tokenizer
// is the bundled demo model's.
import { copyFileSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/runtime/model/hf-config.ts';
import { tensorPlan } from '../../src/runtime/model/tensor-names.ts';

const DEMO = 'models/gpt-chat-demo';

/** Writes (once per shape) and returns the folder of a zero-weight llama model of this shape. */
export function zeroLlamaModel(d: { L: number; C: number; H: number; Hkv: number; F: number }): string {
  const dir = join(tmpdir(), `gpt-chat-zero-llama-L${d.L}-C${d.C}-H${d.H}-${d.Hkv}-F${d.F}`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) copyFileSync(join(DEMO, f), join(dir, f));
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d.C, intermediate_size: d.F, num_hidden_layers: d.L,
    num_attention_heads: d.H, num_key_value_heads: d.Hkv, max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000,
    vocab_size: 1536, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', torch_dtype: 'float32',
  };
  const json = JSON.stringify(config);
  writeFileSync(join(dir, 'config.json'), json);
  const header: Record<string, { dtype: string; shape: readonly number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const w of tensorPlan(parseModelConfig(json, 'config.json'))) {
    for (const part of w.parts) {
      const bytes = part.shape.reduce((a, b) => a * b, 1) * 4;
      header[part.names[0]] = { dtype: 'F32', shape: part.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
  }
  const head = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  const fd = openSync(join(dir, 'model.safetensors.tmp'), 'w');
  writeSync(fd, len);
  writeSync(fd, head);
  const zeros = Buffer.alloc(1 << 20);
  for (let left = offset; left > 0; left -= zeros.length) writeSync(fd, zeros, 0, Math.min(left, zeros.length));
  closeSync(fd);
  // renamed when complete, so a test killed midway never leaves a short file behind
  copyFileSync(join(dir, 'model.safetensors.tmp'), join(dir, 'model.safetensors'));
  return dir;
}
