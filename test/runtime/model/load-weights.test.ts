import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Activation, Backend, FloatDType, KvCache, Weight, WeightDType } from '../../../src/runtime/backend.ts';
import { isQuantDType, quantLayout } from '../../../src/runtime/quant/quant-dtype.ts';
import { GptError } from '../../../src/errors.ts';
import type { FileStream, LoadProgress, ModelFiles } from '../../../src/formats/model-files.ts';
import { parseModelConfig } from '../../../src/runtime/model/hf-config.ts';
import type { ModelConfig } from '../../../src/runtime/model/config.ts';
import { loadWeights } from '../../../src/runtime/model/load-weights.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import type { QuantizeOnLoad } from '../../../src/runtime/model/quantize-on-load.ts';
import { quantizeMatrix } from '../../../src/runtime/quant/quantize.ts';
import { httpModelFiles } from '../../../src/runtime/model-files-http.ts';

// ---------------------------------------------------------------- a recording fake backend

interface FakeWeight extends Weight {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** (rows * cols) how many times each element was written */
  readonly writes: Uint8Array;
}

const ELEM: Record<FloatDType, number> = { f32: 4, f16: 2, bf16: 2 };
// bytes per element: a fraction for quantized types (18 bytes per 32 elements for q4_0)
const elemBytes = (dtype: WeightDType): number => (isQuantDType(dtype) ? quantLayout(dtype).blockBytes / quantLayout(dtype).blockElements : ELEM[dtype]);

/** Keeps every weight as raw bytes so the canonical layout can be checked byte for byte. */
class RecordingBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly weights = new Map<string, FakeWeight>();
  readonly bytesAllocated = 0;

  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight {
    if (this.weights.has(name)) throw new Error(`createWeight twice: ${name}`);
    const w: FakeWeight = { name, rows, cols, dtype, bytes: new Uint8Array(rows * cols * elemBytes(dtype)), writes: new Uint8Array(rows * cols) };
    this.weights.set(name, w);
    return w;
  }

  writeWeight(w: Weight, offset: number, bytes: Uint8Array): void {
    const f = w as FakeWeight;
    const e = elemBytes(f.dtype);
    if (bytes.byteLength % e !== 0 || offset * e + bytes.byteLength > f.bytes.byteLength) {
      throw new Error(`writeWeight out of range: ${f.name} offset ${offset} bytes ${bytes.byteLength}`);
    }
    f.bytes.set(bytes, offset * e);
    for (let i = 0; i < bytes.byteLength / e; i++) f.writes[offset + i]++;
  }

  /** The weight's elements as numbers (f32 only). */
  f32(name: string): number[] {
    const w = this.weights.get(name)!;
    expect(w.dtype).toBe('f32');
    return Array.from(new Float32Array(w.bytes.buffer, 0, w.rows * w.cols));
  }

  createActivation(): Activation { throw new Error('not in this test'); }
  createKvCache(): KvCache { throw new Error('not in this test'); }
  embed(): void { throw new Error('not in this test'); }
  layerNorm(): void { throw new Error('not in this test'); }
  rmsNorm(): void { throw new Error('not in this test'); }
  addNorm(): void { throw new Error('not in this test'); }
  matmul(): void { throw new Error('not in this test'); }
  attention(): void { throw new Error('not in this test'); }
  gelu(): void { throw new Error('not in this test'); }
  swiglu(): void { throw new Error('not in this test'); }
  addInPlace(): void { throw new Error('not in this test'); }
  copyRows(): void { throw new Error('not in this test'); }
  read(): Promise<void> { throw new Error('not in this test'); }
  readArgmax(): Promise<{ index: number; value: number }> { throw new Error('not in this test'); }
  readSample(): Promise<number> { throw new Error('not in this test'); }
  flush(): Promise<void> { throw new Error('not in this test'); }
  prepare(): Promise<void> { throw new Error('not in this test'); }
  destroy(): void {}
}

function expectAllWrittenOnce(b: RecordingBackend): void {
  for (const w of b.weights.values()) {
    const bad = w.writes.findIndex((n) => n !== 1);
    expect(bad, `${w.name} element ${bad} written ${w.writes[bad]} times`).toBe(-1);
  }
}

// ---------------------------------------------------------------- in-memory checkpoints

interface T {
  name: string;
  shape: number[];
  dtype?: 'F32' | 'F16' | 'BF16';
  /** values; default: a code per element, id * 1000 + index, so every element is traceable */
  values?: number[];
}

let nextId = 1;
/** A tensor whose element i is `id * 1000 + i` (exactly representable in f32, bf16 for small i). */
function t(name: string, shape: number[], dtype: T['dtype'] = 'F32'): T & { values: number[] } {
  const id = nextId++;
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, dtype, values: Array.from({ length: n }, (_, i) => (dtype === 'F32' ? id * 1000 + i : i)) };
}

function encode(values: number[], dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    // the small integers used here are exact in both 16-bit formats
    if (dtype === 'BF16') out[i] = u[0] >>> 16;
    else out[i] = values[i] === 0 ? 0 : ((Math.floor(Math.log2(values[i])) + 15) << 10) | Math.round((values[i] / 2 ** Math.floor(Math.log2(values[i])) - 1) * 1024);
  }
  return new Uint8Array(out.buffer);
}

function safetensors(tensors: T[]): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const x of tensors) {
    const bytes = encode(x.values!, x.dtype ?? 'F32');
    header[x.name] = { dtype: x.dtype ?? 'F32', shape: x.shape, data_offsets: [off, off + bytes.length] };
    parts.push(bytes);
    off += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** ModelFiles over an in-memory folder, streaming in odd-sized chunks. */
function memFiles(files: Record<string, Uint8Array | string>, chunk = 37): ModelFiles {
  const missing = (name: string) => new GptError('file-missing', `mem/${name} does not exist`);
  return {
    location: 'mem/',
    async has(name) {
      return name in files;
    },
    async text(name) {
      if (!(name in files)) throw missing(name);
      const v = files[name];
      return typeof v === 'string' ? v : new TextDecoder().decode(v);
    },
    async open(name): Promise<FileStream> {
      const v = files[name];
      if (!(v instanceof Uint8Array)) throw missing(name);
      return {
        size: v.length,
        chunks: (async function* () {
          for (let i = 0; i < v.length; i += chunk) yield v.slice(i, i + chunk);
        })(),
      };
    },
  };
}

/** Row r, col c of a row-major (rows, cols) list. */
const at = (v: number[], cols: number, r: number, c: number) => v[r * cols + c];

function transpose(v: number[], rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out.push(at(v, cols, r, c));
  return out;
}

async function loadError(p: Promise<unknown>): Promise<GptError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GptError);
    return err as GptError;
  }
  throw new Error('expected a GptError');
}

// ---------------------------------------------------------------- GPT-2

const gpt2Cfg = (over: Record<string, unknown> = {}): ModelConfig =>
  parseModelConfig(JSON.stringify({ model_type: 'gpt2', n_embd: 4, n_head: 2, n_layer: 1, n_positions: 5, vocab_size: 6, n_inner: 8, ...over }));

function gpt2Tensors(prefix: string) {
  const p = prefix;
  return {
    wte: t(`${p}wte.weight`, [6, 4]),
    wpe: t(`${p}wpe.weight`, [5, 4]),
    ln1w: t(`${p}h.0.ln_1.weight`, [4]),
    ln1b: t(`${p}h.0.ln_1.bias`, [4]),
    attnMask: t(`${p}h.0.attn.bias`, [1, 1, 5, 5]),
    cAttnW: t(`${p}h.0.attn.c_attn.weight`, [4, 12]),
    cAttnB: t(`${p}h.0.attn.c_attn.bias`, [12]),
    cProjW: t(`${p}h.0.attn.c_proj.weight`, [4, 4]),
    cProjB: t(`${p}h.0.attn.c_proj.bias`, [4]),
    ln2w: t(`${p}h.0.ln_2.weight`, [4]),
    ln2b: t(`${p}h.0.ln_2.bias`, [4]),
    fcW: t(`${p}h.0.mlp.c_fc.weight`, [4, 8]),
    fcB: t(`${p}h.0.mlp.c_fc.bias`, [8]),
    mProjW: t(`${p}h.0.mlp.c_proj.weight`, [8, 4]),
    mProjB: t(`${p}h.0.mlp.c_proj.bias`, [4]),
    lnfw: t(`${p}ln_f.weight`, [4]),
    lnfb: t(`${p}ln_f.bias`, [4]),
  };
}

describe('loadWeights: GPT-2', () => {
  for (const prefix of ['', 'transformer.']) {
    it(`transposes Conv1D weights into the canonical layout (${prefix || 'no'} prefix)`, async () => {
      const x = gpt2Tensors(prefix);
      const extra = prefix ? [t('lm_head.weight', [6, 4]), t(`${prefix}h.0.attn.masked_bias`, [])] : [];
      const b = new RecordingBackend();
      const w = await loadWeights(b, gpt2Cfg(), memFiles({ 'model.safetensors': safetensors([...Object.values(x), ...extra]) }));
      expect(b.f32('tokEmb')).toEqual(x.wte.values);
      expect(b.f32('posEmb')).toEqual(x.wpe.values);
      expect(b.f32('layers.0.attnNormW')).toEqual(x.ln1w.values);
      expect(b.f32('layers.0.attnNormB')).toEqual(x.ln1b.values);
      // (C, 3C) -> (3C, C): row j of wqkv is column j of c_attn, so rows 0..C-1 are q, then k, then v
      const wqkv = b.f32('layers.0.wqkv');
      expect(wqkv).toEqual(transpose(x.cAttnW.values, 4, 12));
      expect(at(wqkv, 4, 5, 2)).toBe(at(x.cAttnW.values, 12, 2, 5));
      expect(b.f32('layers.0.bqkv')).toEqual(x.cAttnB.values);
      expect(b.f32('layers.0.wo')).toEqual(transpose(x.cProjW.values, 4, 4));
      expect(b.f32('layers.0.bo')).toEqual(x.cProjB.values);
      expect(b.f32('layers.0.wUp')).toEqual(transpose(x.fcW.values, 4, 8));
      expect(b.f32('layers.0.bUp')).toEqual(x.fcB.values);
      expect(b.f32('layers.0.wDown')).toEqual(transpose(x.mProjW.values, 8, 4));
      expect(b.f32('layers.0.bDown')).toEqual(x.mProjB.values);
      expect(b.f32('finalNormW')).toEqual(x.lnfw.values);
      expect(b.f32('finalNormB')).toEqual(x.lnfb.values);
      expect(b.weights.get('layers.0.wqkv')).toMatchObject({ rows: 12, cols: 4 });
      expect(b.weights.get('layers.0.wUp')).toMatchObject({ rows: 8, cols: 4 });
      expect(b.weights.get('layers.0.wDown')).toMatchObject({ rows: 4, cols: 8 });
      // tied head: the very same object; the stored lm_head.weight and mask buffers are ignored
      expect(w.lmHead).toBe(w.tokEmb);
      expect(b.weights.has('lmHead')).toBe(false);
      expect(w.layers[0].wqkv).toBe(b.weights.get('layers.0.wqkv'));
      expect(b.weights.size).toBe(2 + 12 + 2);
      expectAllWrittenOnce(b);
    });
  }
});

// ---------------------------------------------------------------- Llama family

const llamaCfg = (over: Record<string, unknown> = {}): ModelConfig =>
  parseModelConfig(
    JSON.stringify({
      model_type: 'llama', hidden_size: 4, num_attention_heads: 2, num_key_value_heads: 1, num_hidden_layers: 1,
      intermediate_size: 6, vocab_size: 5, max_position_embeddings: 16, ...over,
    }),
  );

function llamaTensors(opts: { qkvBias?: boolean; lmHead?: boolean; dtypes?: [T['dtype'], T['dtype'], T['dtype']] } = {}) {
  const [dq, dk, dv] = opts.dtypes ?? ['F32', 'F32', 'F32'];
  const p = 'model.layers.0';
  const x = {
    emb: t('model.embed_tokens.weight', [5, 4]),
    inNorm: t(`${p}.input_layernorm.weight`, [4]),
    q: t(`${p}.self_attn.q_proj.weight`, [4, 4], dq),
    k: t(`${p}.self_attn.k_proj.weight`, [2, 4], dk),
    v: t(`${p}.self_attn.v_proj.weight`, [2, 4], dv),
    o: t(`${p}.self_attn.o_proj.weight`, [4, 4]),
    postNorm: t(`${p}.post_attention_layernorm.weight`, [4]),
    gate: t(`${p}.mlp.gate_proj.weight`, [6, 4]),
    up: t(`${p}.mlp.up_proj.weight`, [6, 4]),
    down: t(`${p}.mlp.down_proj.weight`, [4, 6]),
    norm: t('model.norm.weight', [4]),
    inv: t(`${p}.self_attn.rotary_emb.inv_freq`, [1]),
  };
  const bias = opts.qkvBias
    ? { qb: t(`${p}.self_attn.q_proj.bias`, [4]), kb: t(`${p}.self_attn.k_proj.bias`, [2]), vb: t(`${p}.self_attn.v_proj.bias`, [2]) }
    : null;
  const head = opts.lmHead ? t('lm_head.weight', [5, 4]) : null;
  return { x, bias, head, all: [...Object.values(x), ...(bias ? Object.values(bias) : []), ...(head ? [head] : [])] };
}

describe('loadWeights: Llama family', () => {
  it('stacks q, k, v and gate, up; keeps an untied head; ignores rotary_emb.inv_freq', async () => {
    const { x, head, all } = llamaTensors({ lmHead: true });
    const b = new RecordingBackend();
    const w = await loadWeights(b, llamaCfg(), memFiles({ 'model.safetensors': safetensors(all.reverse()) }));
    expect(b.f32('layers.0.wqkv')).toEqual([...x.q.values, ...x.k.values, ...x.v.values]);
    expect(b.weights.get('layers.0.wqkv')).toMatchObject({ rows: 4 + 2 + 2, cols: 4 });
    expect(b.f32('layers.0.wUp')).toEqual([...x.gate.values, ...x.up.values]);
    expect(b.weights.get('layers.0.wUp')).toMatchObject({ rows: 12, cols: 4 });
    expect(b.f32('layers.0.wo')).toEqual(x.o.values);
    expect(b.f32('layers.0.wDown')).toEqual(x.down.values);
    expect(b.f32('layers.0.attnNormW')).toEqual(x.inNorm.values);
    expect(b.f32('layers.0.mlpNormW')).toEqual(x.postNorm.values);
    expect(b.f32('finalNormW')).toEqual(x.norm.values);
    expect(b.f32('lmHead')).toEqual(head!.values);
    expect(w.lmHead).not.toBe(w.tokEmb);
    expect(w.posEmb).toBeNull();
    const l = w.layers[0];
    expect([l.attnNormB, l.bqkv, l.bo, l.mlpNormB, l.bUp, l.bDown, w.finalNormB]).toEqual([null, null, null, null, null, null, null]);
    expectAllWrittenOnce(b);
  });

  it('qwen2: stacks the q, k, v biases; a tied checkpoint with a stray lm_head ignores it', async () => {
    const { x, bias, all } = llamaTensors({ qkvBias: true, lmHead: true });
    const b = new RecordingBackend();
    const w = await loadWeights(b, llamaCfg({ model_type: 'qwen2', tie_word_embeddings: true }), memFiles({ 'model.safetensors': safetensors(all) }));
    expect(b.f32('layers.0.bqkv')).toEqual([...bias!.qb.values, ...bias!.kb.values, ...bias!.vb.values]);
    expect(w.lmHead).toBe(w.tokEmb);
    expect(b.weights.has('lmHead')).toBe(false);
    expect(b.f32('tokEmb')).toEqual(x.emb.values);
    expectAllWrittenOnce(b);
  });

  it('weights take the checkpoint dtype; a fused weight converts later parts to its first part dtype', async () => {
    const { x, all } = llamaTensors({ dtypes: ['BF16', 'F16', 'F32'] });
    x.v.values = x.v.values.map((_, i) => i / 4 - 1); // exact in bf16
    const b = new RecordingBackend();
    await loadWeights(b, llamaCfg({ tie_word_embeddings: true }), memFiles({ 'model.safetensors': safetensors(all) }));
    const wqkv = b.weights.get('layers.0.wqkv')!;
    expect(wqkv.dtype).toBe('bf16');
    expect(b.weights.get('tokEmb')!.dtype).toBe('f32');
    // decode the bf16 rows back: q, then k (was f16), then v (was f32), all small exact integers
    const u16 = new Uint16Array(wqkv.bytes.buffer);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const values = Array.from(u16, (h) => ((u[0] = h << 16), f[0]));
    expect(values).toEqual([...x.q.values, ...x.k.values, ...x.v.values]);
  });

  it('streams a sharded checkpoint and reports progress up to the exact total', async () => {
    const { x, head, all } = llamaTensors({ lmHead: true });
    const shardA = all.slice(0, 6);
    const shardB = all.slice(6);
    const map = Object.fromEntries([...shardA.map((s) => [s.name, 'model-00001-of-00002.safetensors']), ...shardB.map((s) => [s.name, 'model-00002-of-00002.safetensors'])]);
    const dataBytes = all.reduce((n, s) => n + s.values.length * 4, 0);
    const files = memFiles({
      'model.safetensors.index.json': JSON.stringify({ metadata: { total_size: dataBytes }, weight_map: map }),
      'model-00001-of-00002.safetensors': safetensors(shardA),
      'model-00002-of-00002.safetensors': safetensors(shardB),
    });
    const b = new RecordingBackend();
    const events: LoadProgress[] = [];
    await loadWeights(b, llamaCfg(), files, { onProgress: (p) => events.push(p) });
    expect(b.f32('layers.0.wqkv')).toEqual([...x.q.values, ...x.k.values, ...x.v.values]);
    expect(b.f32('lmHead')).toEqual(head!.values);
    expectAllWrittenOnce(b);
    expect(events.length).toBeGreaterThan(4);
    for (let i = 1; i < events.length; i++) expect(events[i].loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
    expect(events.every((e) => e.total === dataBytes)).toBe(true);
    expect(events.at(-1)).toEqual({ file: 'model-00002-of-00002.safetensors', loaded: dataBytes, total: dataBytes });
    expect(new Set(events.map((e) => e.file))).toEqual(new Set(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']));
  });
});

// ---------------------------------------------------------------- errors

describe('loadWeights errors', () => {
  it('missing tensor: names the tensor and the file', async () => {
    const { all } = llamaTensors({ lmHead: true });
    const files = memFiles({ 'model.safetensors': safetensors(all.filter((s) => !s.name.endsWith('up_proj.weight'))) });
    const e = await loadError(loadWeights(new RecordingBackend(), llamaCfg(), files));
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toMatch(/^model\.safetensors has no tensor model\.layers\.0\.mlp\.up_proj\.weight/);
  });

  it('missing lm_head when tie_word_embeddings is false says why it is needed', async () => {
    const { all } = llamaTensors();
    const e = await loadError(loadWeights(new RecordingBackend(), llamaCfg(), memFiles({ 'model.safetensors': safetensors(all) })));
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toMatch(/no tensor lm_head\.weight.*tie_word_embeddings false/);
  });

  it('GPT-2 missing tensor names both accepted spellings', async () => {
    const x = gpt2Tensors('');
    const files = memFiles({ 'model.safetensors': safetensors(Object.values(x).filter((s) => s !== x.wpe)) });
    const e = await loadError(loadWeights(new RecordingBackend(), gpt2Cfg(), files));
    expect(e.message).toMatch(/no tensor wpe\.weight \(nor transformer\.wpe\.weight\)/);
  });

  it('wrong shape: names tensor, got, expected and the config fields behind it', async () => {
    const { all } = llamaTensors({ lmHead: true });
    const broken = all.map((s) => (s.name.endsWith('k_proj.weight') ? { ...s, shape: [4, 2] } : s));
    const b = new RecordingBackend();
    const e = await loadError(loadWeights(b, llamaCfg(), memFiles({ 'model.safetensors': safetensors(broken) })));
    expect(e.code).toBe('bad-tensor-shape');
    expect(e.message).toContain('model.safetensors: tensor model.layers.0.self_attn.k_proj.weight has shape [4, 2] but config.json implies [2, 4] (num_key_value_heads * head_dim, hidden_size)');
    expect(b.weights.size).toBe(0); // validated before any byte was written
  });

  it('vocab mismatch gets its own message', async () => {
    const { all } = llamaTensors({ lmHead: true });
    const e = await loadError(loadWeights(new RecordingBackend(), llamaCfg({ vocab_size: 1000 }), memFiles({ 'model.safetensors': safetensors(all) })));
    expect(e.code).toBe('bad-tensor-shape');
    expect(e.message).toMatch(/^config\.json vocab_size 1000 but model\.embed_tokens\.weight has 5 rows/);
  });

  it('no weights file: file-missing naming the folder', async () => {
    const e = await loadError(loadWeights(new RecordingBackend(), llamaCfg(), memFiles({ 'config.json': '{}' })));
    expect(e.code).toBe('file-missing');
    expect(e.message).toMatch(/mem\/ has neither model\.safetensors nor model\.safetensors\.index\.json/);
  });

  it('a tensor absent from the index, or from the shard the index names', async () => {
    const { all } = llamaTensors({ lmHead: true });
    const map = Object.fromEntries(all.map((s) => [s.name, 'a.safetensors']));
    delete map['model.norm.weight'];
    let e = await loadError(
      loadWeights(new RecordingBackend(), llamaCfg(), memFiles({ 'model.safetensors.index.json': JSON.stringify({ weight_map: map }), 'a.safetensors': safetensors(all) })),
    );
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toMatch(/^model\.safetensors\.index\.json has no tensor model\.norm\.weight/);
    map['model.norm.weight'] = 'a.safetensors';
    e = await loadError(
      loadWeights(
        new RecordingBackend(),
        llamaCfg(),
        memFiles({ 'model.safetensors.index.json': JSON.stringify({ weight_map: map }), 'a.safetensors': safetensors(all.filter((s) => s.name !== 'model.norm.weight')) }),
      ),
    );
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toMatch(/Tensor model\.norm\.weight was not found in a\.safetensors although model\.safetensors\.index\.json lists it/);
  });

  it('stops between tensors when the signal aborts', async () => {
    const { all } = llamaTensors({ lmHead: true });
    const ac = new AbortController();
    let seen = 0;
    const p = loadWeights(new RecordingBackend(), llamaCfg(), memFiles({ 'model.safetensors': safetensors(all) }), {
      signal: ac.signal,
      onProgress: () => {
        if (++seen === 3) ac.abort();
      },
    });
    expect((await loadError(p)).code).toBe('aborted');
  });
});

// ---------------------------------------------------------------- the generated fixtures, from disk

const ROOT = join(import.meta.dirname, '../../..');
const index = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/generated/index.json'), 'utf8')) as Record<string, { dir: string; dtype: string }>;
const broken = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/generated/broken/index.json'), 'utf8')) as Record<string, { dir: string; expect: string }>;

async function loadFixture(dir: string, quantize?: QuantizeOnLoad) {
  const files = nodeModelFiles(join(ROOT, dir));
  const cfg = parseModelConfig(await files.text('config.json'));
  const b = new RecordingBackend();
  const w = await loadWeights(b, cfg, files, { quantize });
  return { cfg, b, w };
}

describe('fixtures through nodeModelFiles', () => {
  it.each(Object.keys(index))('%s loads completely in its dtype', async (name) => {
    const { cfg, b, w } = await loadFixture(index[name].dir);
    expectAllWrittenOnce(b);
    expect(w.layers.length).toBe(cfg.L);
    expect(w.tokEmb).toMatchObject({ rows: cfg.V, cols: cfg.C });
    expect(w.layers[0].wqkv).toMatchObject({ rows: (cfg.H + 2 * cfg.Hkv) * cfg.D, cols: cfg.C });
    expect(w.layers[0].wUp.rows).toBe(cfg.mlp === 'swiglu' ? 2 * cfg.F : cfg.F);
    expect(w.lmHead === w.tokEmb).toBe(cfg.tiedHead);
    expect(w.layers[0].wqkv.dtype).toBe(index[name].dtype.toLowerCase());
  });

  it('the sharded fixture holds exactly the single-file weights', async () => {
    const one = await loadFixture(index['llama'].dir);
    const two = await loadFixture(index['llama-sharded'].dir);
    expect([...two.b.weights.keys()].sort()).toEqual([...one.b.weights.keys()].sort());
    for (const [key, w] of one.b.weights) expect(Buffer.compare(two.b.weights.get(key)!.bytes, w.bytes), key).toBe(0);
  });

  it('the bf16 fixture holds the f32 weights rounded to bf16', async () => {
    const f32 = await loadFixture(index['smollm2-135m'].dir);
    const bf16 = await loadFixture(index['smollm2-bf16'].dir);
    const a = f32.b.f32('layers.1.wUp');
    const raw = new Uint16Array(bf16.b.weights.get('layers.1.wUp')!.bytes.buffer);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let worst = 0;
    raw.forEach((h, i) => {
      u[0] = h << 16;
      worst = Math.max(worst, Math.abs(f[0] - a[i]) / Math.abs(a[i]));
    });
    expect(worst).toBeLessThanOrEqual(2 ** -8); // half an ulp of bf16's 8-bit significand, relative
    expect(worst).toBeGreaterThan(0); // and really rounded, not a copy
  });

  // quantize on load: every matrix whose rows are whole blocks becomes the bytes of ggml's
  // quantizer run on the f32 weights (after GPT-2's transpose); vectors, GPT-2's learned
  // positions and matrices of other widths keep the checkpoint's dtype
  it.each([
    ['llama', 'q8_0'],
    ['gpt2', 'q4_0'], // Conv1D weights: transposed first, then quantized by rows
    ['qwen2.5-0.5b', 'q8_0'], // F = 172: the down projection stays f32
    ['smollm2-bf16', 'q4_0'], // from bf16
  ] as const)('%s quantized on load to %s holds quantizeMatrix of the unquantized weights', async (name, to) => {
    const plain = await loadFixture(index[name].dir);
    const q = await loadFixture(index[name].dir, to);
    expectAllWrittenOnce(q.b);
    let quantized = 0;
    for (const [key, w] of plain.b.weights) {
      const qw = q.b.weights.get(key)!;
      const expectQuant = w.rows > 1 && key !== 'posEmb' && w.cols % 32 === 0;
      expect(qw.dtype, key).toBe(expectQuant ? to : w.dtype);
      if (!expectQuant) {
        expect(Buffer.compare(qw.bytes, w.bytes), key).toBe(0);
        continue;
      }
      quantized++;
      const f32 = w.dtype === 'f32' ? new Float32Array(w.bytes.buffer, 0, w.rows * w.cols) : new Float32Array(w.rows * w.cols);
      if (w.dtype === 'bf16') new Uint16Array(w.bytes.buffer).forEach((h, i) => (f32[i] = new Float32Array(new Uint32Array([h << 16]).buffer)[0]));
      expect(Buffer.compare(qw.bytes, quantizeMatrix(to, f32, w.rows, w.cols)), key).toBe(0);
    }
    expect(quantized).toBeGreaterThanOrEqual(3 * q.cfg.L); // at least qkv, o and up of every layer
    if (name === 'qwen2.5-0.5b') expect(q.w.layers[0].wDown.dtype).toBe('f32');
    if (name === 'gpt2') expect(q.w.posEmb?.dtype).toBe('f32');
  });

  it.each(Object.keys(broken))('broken/%s fails with the expected code', async (name) => {
    const e = await loadError(loadFixture(broken[name].dir));
    expect(e.code).toBe(broken[name].expect);
  });
});

// ---------------------------------------------------------------- ModelFiles implementations

describe('nodeModelFiles', () => {
  it('streams a file in chunks with its size', async () => {
    const files = nodeModelFiles(join(ROOT, index['gpt2'].dir));
    const s = await files.open('model.safetensors');
    let n = 0;
    for await (const c of s.chunks) n += c.byteLength;
    expect(n).toBe(s.size);
    expect(await files.has('config.json')).toBe(true);
    expect(await files.has('nope.json')).toBe(false);
  });

  it('names the path of a missing file', async () => {
    const files = nodeModelFiles('/does/not/exist');
    await expect(files.text('config.json')).rejects.toMatchObject({ code: 'file-missing', message: expect.stringContaining('/does/not/exist/config.json') });
    await expect(files.open('model.safetensors')).rejects.toMatchObject({ code: 'file-missing', message: expect.stringContaining('/does/not/exist/model.safetensors') });
  });
});

describe('httpModelFiles', () => {
  const dir = join(ROOT, index['tinyllama'].dir);
  // A fake server over the fixture folder: bodies in 1000-byte pieces, 404 for anything else.
  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const name = url.slice('https://hf.test/m/'.length);
    let body: Uint8Array;
    try {
      body = new Uint8Array(readFileSync(join(dir, name)));
    } catch {
      return new Response('Not Found', { status: 404, statusText: 'Not Found' });
    }
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 1000) c.enqueue(body.slice(i, i + 1000));
        c.close();
      },
    });
    return new Response(init?.method === 'HEAD' ? null : stream, { status: 200, headers: { 'content-length': String(body.length) } });
  }) as typeof fetch;

  it('loads a model over HTTP, streamed', async () => {
    const files = httpModelFiles('https://hf.test/m', fakeFetch);
    expect(files.location).toBe('https://hf.test/m/');
    const cfg = parseModelConfig(await files.text('config.json'));
    const b = new RecordingBackend();
    await loadWeights(b, cfg, files);
    expectAllWrittenOnce(b);
    expect(await files.has('model.safetensors')).toBe(true);
    expect(await files.has('missing.bin')).toBe(false);
  });

  it('404 is file-missing naming the URL and status', async () => {
    const files = httpModelFiles('https://hf.test/m/', fakeFetch);
    await expect(files.open('model-00001-of-00002.safetensors')).rejects.toMatchObject({
      code: 'file-missing',
      message: expect.stringMatching(/https:\/\/hf\.test\/m\/model-00001-of-00002\.safetensors answered 404 Not Found/),
    });
  });

  it('a failed request is a network error', async () => {
    const files = httpModelFiles('https://hf.test/m/', (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    await expect(files.text('config.json')).rejects.toMatchObject({ code: 'network', message: expect.stringContaining('fetch failed') });
  });
});
