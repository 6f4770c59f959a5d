import { describe, expect, it } from 'vitest';
import { GptError } from '../../src/errors.ts';
import type { FileStream } from '../../src/formats/model-files.ts';
import { openSafetensors, parseSafetensorsIndex, type SafetensorsTensor } from '../../src/formats/safetensors.ts';

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** A safetensors file from a header object and a data section, with a correct length prefix. */
function file(header: Record<string, Entry | Record<string, string>>, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Streams `bytes` in chunks of `chunk` bytes; `size` may lie to simulate a short download. */
function stream(bytes: Uint8Array, chunk = 5, size = bytes.length): FileStream {
  return {
    size,
    chunks: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
    })(),
  };
}

async function all(s: FileStream, name = 'model.safetensors'): Promise<SafetensorsTensor[]> {
  const reader = await openSafetensors(s, name);
  const out: SafetensorsTensor[] = [];
  for await (const t of reader.tensors()) out.push(t);
  return out;
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

const data = Uint8Array.from({ length: 26 }, (_, i) => i + 1);
// Header keys deliberately not in file order: b comes first in the data.
const good = {
  __metadata__: { format: 'pt' },
  a: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 24] as [number, number] },
  b: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] as [number, number] },
  c: { dtype: 'F16', shape: [1], data_offsets: [24, 26] as [number, number] },
};

describe('safetensors', () => {
  it('parses the header and yields tensors in file order with their exact bytes, across chunk borders', async () => {
    const bytes = file(good, data);
    const reader = await openSafetensors(stream(bytes, 3), 'm.safetensors');
    expect(reader.header.metadata).toEqual({ format: 'pt' });
    expect(reader.header.dataStart).toBe(bytes.length - data.length);
    const got: SafetensorsTensor[] = [];
    let counted = 0;
    for await (const t of reader.tensors({ onBytes: (n) => (counted += n) })) got.push(t);
    expect(got.map((t) => t.name)).toEqual(['b', 'a', 'c']);
    expect(got.map((t) => t.dtype)).toEqual(['BF16', 'F32', 'F16']);
    expect(got[1].shape).toEqual([2, 2]);
    expect([...got[0].bytes]).toEqual([...data.slice(0, 8)]);
    expect([...got[1].bytes]).toEqual([...data.slice(8, 24)]);
    expect([...got[2].bytes]).toEqual([...data.slice(24, 26)]);
    expect(got[1].bytes.byteOffset % 4).toBe(0); // fresh arrays: Float32Array views work
    expect(counted).toBe(26);
  });

  it('skips bytes between tensors', async () => {
    const h = { x: { dtype: 'F16', shape: [1], data_offsets: [4, 6] as [number, number] } };
    const [t] = await all(stream(file(h, data.slice(0, 6)), 1));
    expect([...t.bytes]).toEqual([5, 6]);
  });

  it('can read the tensors only once', async () => {
    const reader = await openSafetensors(stream(file(good, data)), 'm.safetensors');
    for await (const _ of reader.tensors()) void _;
    await expect(reader.tensors().next()).rejects.toThrow(/only once/);
  });

  it('refuses a file shorter than 8 bytes', async () => {
    const e = await failure(all(stream(new Uint8Array(5)), 'tiny.safetensors'));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/tiny\.safetensors.*5 bytes.*8-byte/);
  });

  it('refuses a header length past the end of the file', async () => {
    const bytes = file(good, data);
    new DataView(bytes.buffer).setBigUint64(0, 5000n, true);
    const e = await failure(all(stream(bytes), 'w.safetensors'));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/w\.safetensors.*header length 5000 runs past the end of the \d+-byte file/);
  });

  it('refuses an absurd header length (not a safetensors file)', async () => {
    const bytes = new TextEncoder().encode('<!DOCTYPE html><html>not found</html>');
    const e = await failure(all(stream(bytes), 'model.safetensors'));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/absurd/);
  });

  it('refuses a header that is not JSON', async () => {
    const e = await failure(all(stream(file({}, data, '{"a": nope'))));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/model\.safetensors.*header is not a JSON object/);
  });

  it('refuses an unknown dtype, naming it, the tensor and the file', async () => {
    const h = { 'model.embed_tokens.weight': { dtype: 'I8', shape: [4], data_offsets: [0, 4] as [number, number] } };
    const e = await failure(all(stream(file(h, data.slice(0, 4))), 'q.safetensors'));
    expect(e.code).toBe('unsupported-dtype');
    expect(e.message).toContain('q.safetensors');
    expect(e.message).toContain('model.embed_tokens.weight');
    expect(e.message).toContain('I8');
    expect(e.message).toMatch(/F32, F16 and BF16/);
  });

  it('refuses a shape whose size does not match the byte range', async () => {
    const h = { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] as [number, number] } };
    const e = await failure(all(stream(file(h, data.slice(0, 16)))));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/tensor w shape \[2, 3\] x F32 needs 24 bytes but data_offsets \[0, 16\] span 16/);
  });

  it('refuses overlapping ranges', async () => {
    const h = {
      p: { dtype: 'F32', shape: [2], data_offsets: [0, 8] as [number, number] },
      q: { dtype: 'F32', shape: [2], data_offsets: [4, 12] as [number, number] },
    };
    const e = await failure(all(stream(file(h, data.slice(0, 12)))));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/tensor q bytes \[4, 12\) overlap tensor p bytes \[0, 8\)/);
  });

  it('refuses malformed data_offsets', async () => {
    const h = { r: { dtype: 'F32', shape: [0], data_offsets: [8, 4] as [number, number] } };
    const e = await failure(all(stream(file(h, data.slice(0, 8)))));
    expect(e.message).toMatch(/tensor r data_offsets should be \[begin, end\]/);
  });

  it('reports a truncated file: data shorter than the last end offset', async () => {
    const bytes = file(good, data).slice(0, -3);
    const e = await failure(all(stream(bytes), 'cut.safetensors'));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/cut\.safetensors.*truncated: tensor c ends at data byte 26 but the file holds only 23 data bytes/);
  });

  it('reports a stream that ends before its announced size', async () => {
    const bytes = file(good, data);
    const e = await failure(all(stream(bytes.slice(0, -10), 4, bytes.length), 'net.safetensors'));
    expect(e.code).toBe('bad-safetensors');
    expect(e.message).toMatch(/net\.safetensors.*stream ended at data byte \d+, before tensor a/);
  });

  it('stops at an aborted signal between tensors', async () => {
    const reader = await openSafetensors(stream(file(good, data)), 'm.safetensors');
    const ac = new AbortController();
    const it = reader.tensors({ signal: ac.signal });
    expect((await it.next()).value?.name).toBe('b');
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'aborted' });
  });

  it('parses a shard index', () => {
    const idx = parseSafetensorsIndex(
      JSON.stringify({ metadata: { total_size: 123 }, weight_map: { a: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' } }),
    );
    expect(idx.files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(idx.weightMap.get('a')).toBe('model-00002-of-00002.safetensors');
    expect(idx.totalSize).toBe(123);
    expect(() => parseSafetensorsIndex('{"metadata": {}}')).toThrow(/model\.safetensors\.index\.json has no weight_map/);
    expect(() => parseSafetensorsIndex('{"weight_map": ')).toThrow(expect.objectContaining({ code: 'bad-json' }));
  });
});
