// Checks the shipped models/gpt-chat-demo folder the way the runtime will read it, without torch:
// config.json keys, every safetensors tensor with the shape config.json implies (F16, tied head),
// the tokenizer loads in @huggingface/tokenizers, and each eval item is consistent (gold among the
// labels, the stored prompt equal to the few-shot format rendered here independently).
// Usage: node tools/demo-model/check-model-folder.mjs [models/gpt-chat-demo]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const folder = process.argv[2] ?? 'models/gpt-chat-demo';
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };
const readJson = (name) => JSON.parse(readFileSync(join(folder, name), 'utf8'));

const config = readJson('config.json');
for (const key of ['architectures', 'model_type', 'hidden_size', 'intermediate_size', 'num_hidden_layers',
  'num_attention_heads', 'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps',
  'rope_theta', 'vocab_size', 'tie_word_embeddings', 'bos_token_id', 'eos_token_id', 'hidden_act', 'torch_dtype']) {
  expect(key in config, `config.json lacks ${key}`);
}
const { hidden_size: C, intermediate_size: F, num_hidden_layers: L, num_attention_heads: H,
  num_key_value_heads: Hkv, head_dim: D, vocab_size: V } = config;

// safetensors: u64 header length, JSON header, data
const bytes = readFileSync(join(folder, 'model.safetensors'));
const n = Number(bytes.readBigUInt64LE(0));
const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
const shapes = { 'model.embed_tokens.weight': [V, C], 'model.norm.weight': [C] };
for (let l = 0; l < L; l++) {
  const p = `model.layers.${l}.`;
  Object.assign(shapes, {
    [`${p}input_layernorm.weight`]: [C], [`${p}post_attention_layernorm.weight`]: [C],
    [`${p}self_attn.q_proj.weight`]: [H * D, C], [`${p}self_attn.k_proj.weight`]: [Hkv * D, C],
    [`${p}self_attn.v_proj.weight`]: [Hkv * D, C], [`${p}self_attn.o_proj.weight`]: [C, H * D],
    [`${p}mlp.gate_proj.weight`]: [F, C], [`${p}mlp.up_proj.weight`]: [F, C], [`${p}mlp.down_proj.weight`]: [C, F],
  });
}
const names = Object.keys(header).filter((k) => k !== '__metadata__');
expect(names.length === Object.keys(shapes).length, `${names.length} tensors, expected ${Object.keys(shapes).length}`);
let end = 0;
for (const [name, shape] of Object.entries(shapes)) {
  const t = header[name];
  if (!t) { problems.push(`missing tensor ${name}`); continue; }
  expect(t.dtype === 'F16', `${name} is ${t.dtype}, expected F16`);
  expect(JSON.stringify(t.shape) === JSON.stringify(shape), `${name} shape ${t.shape}, expected ${shape}`);
  expect(t.data_offsets[1] - t.data_offsets[0] === 2 * shape.reduce((a, b) => a * b, 1), `${name} byte size`);
  end = Math.max(end, t.data_offsets[1]);
}
expect(8 + n + end === bytes.length, `file is ${bytes.length} bytes, header implies ${8 + n + end}`);
const firstBad = new Uint16Array(bytes.buffer.slice(bytes.byteOffset + 8 + n, bytes.byteOffset + bytes.length))
  .findIndex((h) => (h & 0x7c00) === 0x7c00); // F16 inf or NaN
expect(firstBad === -1, `non-finite F16 value at element ${firstBad}`);

const tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
expect(JSON.stringify(tokenizer.encode('<|endoftext|><|im_start|><|im_end|>').ids) === '[0,1,2]', 'special token ids');

// the few-shot format of src/templates, written out again here
const fill = (pattern, fields) => pattern.replace(/\{(\w+)\}/g, (_, k) => fields[k]);
let items = 0;
for (const file of readdirSync(join(folder, 'eval')).filter((f) => f.endsWith('.json') && f !== 'chat.json')) {
  const { template, items: list } = readJson(join('eval', file));
  for (const [i, it] of list.entries()) {
    items++;
    const labelFields = Object.fromEntries(it.instructionLabels.map((l, j) => [`L${j + 1}`, l]));
    const parts = [fill(template.instruction, labelFields),
      ...it.examples.map((e) => `${fill(template.pattern, e.fields)}${template.answerPrefix} ${e.label}`),
      `${fill(template.pattern, it.query)}${template.answerPrefix}`];
    expect(parts.join('\n\n') === it.prompt, `${file} item ${i}: stored prompt differs from the rendering`);
    expect(it.labels.includes(it.gold), `${file} item ${i}: gold ${it.gold} not among labels`);
    expect(tokenizer.encode(it.prompt).ids.length < config.max_position_embeddings, `${file} item ${i}: prompt too long`);
  }
}
console.log(`${folder}: ${names.length} tensors, ${items} eval items: ${problems.length} problems`);
for (const p of problems) console.error('  ' + p);
process.exit(problems.length === 0 ? 0 : 1);
