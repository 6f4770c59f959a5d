import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import { openGguf, type GgufTensor } from '../../src/formats/gguf.ts';
import type { FileStream } from '../../src/formats/model-files.ts';
import { ggufModelConfig } from '../../src/runtime/model/gguf-config.ts';
import { GGML_TYPE, ggufBytes, kv, type GgufEntry, type GgufTensorEntry } from '../../tools/gguf-writer.mjs';

/** Streams `bytes` in chunks of `chunk` bytes. */
function stream(bytes: Uint8Array, chunk = 7): FileStream {
  return {
    size: bytes.length,
    chunks: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
    })(),
  };
}

async function failure(p: Promise<unknown>): Promise<GptError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GptError);
    return err as GptError;
  }
  throw new Error('expected a GptError');
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const META: GgufEntry[] = [
  kv.str('general.architecture', 'llama'),
  kv.u32('llama.block_count', 1),
  kv.f32('llama.rope.freq_base', 10000),
  kv.bool('tokenizer.ggml.add_bos_token', true),
  kv.arr('tokenizer.ggml.tokens', 'string', ['<unk>', 'héllo', '▁wörld']),
  kv.arr('tokenizer.ggml.scores', 'float32', [0, -1.5, -2.25]),
  { key: 'big', type: 'uint64', value: 2n ** 60n },
];
const TENSORS: GgufTensorEntry[] = [
  { name: 'b', dims: [3], type: GGML_TYPE.F32, bytes: f32(1, 2, 3) },
  { name: 'a', dims: [2, 2], type: GGML_TYPE.F32, bytes: f32(4, 5, 6, 7) },
  { name: 'q', dims: [32], type: GGML_TYPE.Q8_0, bytes: new Uint8Array(34).fill(3) },
];

async function readAll(bytes: Uint8Array, chunk?: number): Promise<GgufTensor[]> {
  const r = await openGguf(stream(bytes, chunk), 'x.gguf');
  const out: GgufTensor[] = [];
  for await (const t of r.tensorData()) out.push(t);
  return out;
}

describe('GGUF reader', () => {
  it('reads metadata of every kind and the tensors with their exact bytes, in data order, across chunk borders', async () => {
    for (const version of [2, 3]) {
      const bytes = ggufBytes({ metadata: META, tensors: TENSORS, version });
      const r = await openGguf(stream(bytes, 5), 'x.gguf');
      expect(r.version).toBe(version);
      expect(r.metadata.string('general.architecture')).toBe('llama');
      expect(r.metadata.uint('llama.block_count')).toBe(1);
      expect(r.metadata.float('llama.rope.freq_base')).toBe(10000);
      expect(r.metadata.bool('tokenizer.ggml.add_bos_token')).toBe(true);
      expect(r.metadata.stringArray('tokenizer.ggml.tokens')).toEqual(['<unk>', 'héllo', '▁wörld']);
      expect(Array.from(r.metadata.numberArray('tokenizer.ggml.scores')!)).toEqual([0, -1.5, -2.25]);
      expect(r.metadata.get('big')!.value).toBe(2n ** 60n); // kept exact, not rounded to a number
      expect(r.dataStart % 32).toBe(0);
      expect(r.tensors.map((t) => [t.name, t.begin, t.shape])).toEqual([['b', 0, [3]], ['a', 32, [2, 2]], ['q', 64, [32]]]);
      const got = [];
      for await (const t of r.tensorData()) got.push(t);
      expect(Array.from(new Float32Array(got[1]!.bytes.buffer))).toEqual([4, 5, 6, 7]);
      expect(got[2]!.bytes).toEqual(new Uint8Array(34).fill(3));
      expect(got[2]!.layout.name).toBe('q8_0');
    }
  });

  it('honours general.alignment', async () => {
    const bytes = ggufBytes({ metadata: [{ key: 'general.alignment', type: 'uint32', value: 64 }], tensors: TENSORS, alignment: 64 });
    const r = await openGguf(stream(bytes), 'x.gguf');
    expect(r.alignment).toBe(64);
    expect(r.tensors.map((t) => t.begin)).toEqual([0, 64, 128]);
    expect(r.dataStart % 64).toBe(0);
  });

  // The malformed corpus: each refused with its own message, before any tensor byte is read.
  const corpus: [string, () => Uint8Array, string, RegExp][] = [
    ['bad magic', () => ggufBytes({ metadata: META, magic: 'GGML' }), 'bad-gguf', /47 47 4d 4c, not the magic "GGUF"/],
    ['version 1', () => ggufBytes({ metadata: META, version: 1 }), 'bad-gguf', /version 1 .* not supported/],
    ['version 4', () => ggufBytes({ metadata: META, version: 4 }), 'bad-gguf', /version is 4; versions 2 and 3/],
    ['big-endian', () => ggufBytes({ metadata: META, version: 0x03000000 }), 'bad-gguf', /big-endian/],
    ['tensor count of 2^60', () => ggufBytes({ metadata: META, tensorCount: 2n ** 60n }), 'bad-gguf', /tensor_count is 1152921504606846976, but the \d+ bytes left/],
    ['metadata count of 2^60', () => ggufBytes({ metadata: META, kvCount: 2n ** 60n }), 'bad-gguf', /metadata_kv_count is 1152921504606846976/],
    ['array count of 2^60', () => patchArrayCount(), 'bad-gguf', /item count of metadata tokenizer.ggml.tokens is 1152921504606846976/],
    ['string length past the end', () => ggufBytes({ metadata: [kv.str('general.architecture', 'llama')] }).subarray(0, 66), 'bad-gguf', /metadata general.architecture at offset 56 has length 5, past the end of the 66-byte file/],
    ['unknown value type', () => ggufBytes({ metadata: [{ ...kv.u32('general.alignment', 32), typeId: 13 }] }), 'bad-gguf', /metadata general.alignment has value type 13/],
    ['nested array', () => ggufBytes({ metadata: [{ key: 'x', type: 'array', itemType: 'array', value: [] }] }), 'bad-gguf', /array of type/],
    ['duplicate key', () => ggufBytes({ metadata: [kv.u32('k', 1), kv.u32('k', 2)] }), 'bad-gguf', /metadata key k appears twice/],
    ['alignment not a power of two', () => ggufBytes({ metadata: [kv.u32('general.alignment', 48)], tensors: TENSORS }), 'bad-gguf', /general.alignment is 48, not a power of two/],
    ['alignment of the wrong value type', () => ggufBytes({ metadata: [kv.str('general.alignment', '32')], tensors: TENSORS }), 'bad-gguf', /metadata general.alignment should be a uint32, found string/],
    ['unaligned offset', () => ggufBytes({ tensors: [TENSORS[0]!, { ...TENSORS[1]!, offset: 16 }] }), 'bad-gguf', /tensor a starts at data offset 16, not a multiple of the alignment 32/],
    ['overlapping offsets', () => ggufBytes({ tensors: [{ ...TENSORS[1]!, offset: 0 }, { ...TENSORS[0]!, offset: 0 }] }), 'bad-gguf', /overlap tensor/],
    ['offset past the end', () => ggufBytes({ tensors: [{ ...TENSORS[0]!, offset: 1 << 20 }] }).subarray(0, 256), 'bad-gguf', /tensor b \[3\] \(ggml order\) x f32 needs 12 bytes from data offset 1048576, past the end of the data/],
    ['unknown tensor type', () => ggufBytes({ tensors: [{ ...TENSORS[0]!, type: 99 }] }), 'unsupported-dtype', /tensor b has ggml type id 99, which is not a ggml type we know/],
    ['tensor type we do not read', () => ggufBytes({ tensors: [{ ...TENSORS[0]!, type: 13 }] }), 'unsupported-dtype', /tensor b has ggml type Q5_K \(13\)/],
    ['byte size not matching shape and type', () => ggufBytes({ tensors: [{ name: 'q', dims: [33], type: GGML_TYPE.Q8_0, bytes: new Uint8Array(34) }] }), 'bad-gguf', /tensor q \[33\] \(ggml order\) is q8_0, but its rows of 33 elements are not a whole number of 32-element blocks/],
    ['data cut short', () => ggufBytes({ tensors: TENSORS }).subarray(0, -40), 'bad-gguf', /tensor q .* past the end of the data/],
    ['too many dims', () => ggufBytes({ tensors: [{ ...TENSORS[0]!, dims: [1, 1, 1, 1, 3] }] }), 'bad-gguf', /n_dims 5/],
    ['duplicate tensor', () => ggufBytes({ tensors: [TENSORS[0]!, TENSORS[0]!] }), 'bad-gguf', /tensor b appears twice/],
  ];

  function patchArrayCount(): Uint8Array {
    const bytes = ggufBytes({ metadata: META });
    const key = new TextEncoder().encode('tokenizer.ggml.tokens');
    const at = Buffer.from(bytes).indexOf(Buffer.from(key)) + key.length + 4 + 4; // type, item type
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, 2n ** 60n, true);
    return bytes;
  }

  for (const [name, make, code, message] of corpus) {
    it(`refuses ${name}`, async () => {
      const t0 = performance.now();
      const err = await failure(readAll(make()));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).toContain('x.gguf');
      expect(performance.now() - t0).toBeLessThan(1000); // refused from the header, not after a scan
    });
  }

  it('refuses a stream that ends before its stated size, naming the tensor', async () => {
    const bytes = ggufBytes({ tensors: TENSORS });
    const r = await openGguf({ size: bytes.length, chunks: stream(bytes.subarray(0, bytes.length - 40)).chunks }, 'x.gguf');
    const e2 = await failure((async () => {
      for await (const _ of r.tensorData()) void _;
    })());
    expect(e2.message).toMatch(/stream ended at data byte \d+, before tensor q/);
  });

  it('names a metadata key of the wrong value type and an unsupported architecture', async () => {
    const wrongType = await openGguf(stream(ggufBytes({ metadata: [kv.str('general.architecture', 'llama'), kv.str('llama.block_count', 'two')], tensors: [{ name: 'token_embd.weight', dims: [4, 2], type: GGML_TYPE.F32, bytes: new Uint8Array(32) }] })), 'x.gguf');
    expect(() => ggufModelConfig(wrongType.metadata, wrongType.tensors)).toThrow(/x.gguf: metadata llama.embedding_length is missing/);
    const typed = await openGguf(stream(ggufBytes({ metadata: [kv.str('general.architecture', 'llama'), kv.u32('llama.embedding_length', 4), kv.str('llama.block_count', 'two')], tensors: [{ name: 'token_embd.weight', dims: [4, 2], type: GGML_TYPE.F32, bytes: new Uint8Array(32) }] })), 'x.gguf');
    let err = (() => { try { ggufModelConfig(typed.metadata, typed.tensors); } catch (e) { return e as GptError; } throw new Error('no error'); })();
    expect(err.code).toBe('bad-gguf');
    expect(err.message).toMatch(/metadata llama.block_count should be an unsigned integer, found string "two"/);
    const mamba = await openGguf(stream(ggufBytes({ metadata: [kv.str('general.architecture', 'mamba')] })), 'x.gguf');
    err = (() => { try { ggufModelConfig(mamba.metadata, mamba.tensors); } catch (e) { return e as GptError; } throw new Error('no error'); })();
    expect(err.code).toBe('unsupported-model');
    expect(err.message).toMatch(/architecture "mamba".*supported: llama, qwen2, gpt2/);
  });
});
