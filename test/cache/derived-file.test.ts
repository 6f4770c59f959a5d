import { describe, expect, it } from 'vitest';
import { deleteCachedModel, memoryStore, type CacheStore } from '../../src/cache/index.ts';
import { DerivedFile, derivedKey, type DerivedRecord } from '../../src/cache/derived-file.ts';
import { manifestKey, type ModelRecord } from '../../src/cache/manifest.ts';

// Files derived from a cached model (its weights as quantize on load made them), kept beside it
// (src/cache/derived-file.ts): keyed by the model's content, checked chunk by chunk, deleted with it.

const URL_ = 'https://example.test/model/';
const hex = (c: string) => c.repeat(64);

function manifest(weightsHash = 'a'): ModelRecord {
  return {
    version: 1,
    url: URL_,
    chunkSize: 1024,
    absent: [],
    createdAt: 0,
    complete: true,
    files: [
      { name: 'config.json', size: 10, etag: null, lastModified: null, contentType: null, generation: 'g1', sha256: null, chunks: [{ size: 10, sha256: hex('b') }] },
      { name: 'model.safetensors', size: 2048, etag: null, lastModified: null, contentType: null, generation: 'g1', sha256: null, chunks: [{ size: 1024, sha256: hex(weightsHash) }, { size: 1024, sha256: hex('c') }] },
    ],
  };
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** `data` as a derived source in uneven pieces (a header, then tensors of any size). */
const source = (data: Uint8Array) => ({
  size: data.length,
  async *chunks() {
    for (const [a, b] of [[0, 7], [7, 1500], [1500, data.length]]) yield data.subarray(a, Math.min(b!, data.length));
  },
});

async function readAll(store: CacheStore, m: ModelRecord, variant = 'q8_0'): Promise<Uint8Array | null> {
  const f = await new DerivedFile(store, m, variant, 1024).find();
  if (!f) return null;
  const parts: Uint8Array[] = [];
  for await (const c of (await f.open()).chunks) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  expect(out.length).toBe(f.size);
  return out;
}

async function withModel(m = manifest()): Promise<CacheStore> {
  const store = memoryStore();
  await store.write([[manifestKey(URL_), m]]);
  return store;
}

describe('derived files of a cached model', () => {
  it('saved in chunks of the model chunk size and read back byte for byte', async () => {
    const store = await withModel();
    const data = bytes(2600);
    await new DerivedFile(store, manifest(), 'q8_0', 1024).save(source(data));
    expect(await readAll(store, manifest())).toEqual(data);
    const record = (await store.get<DerivedRecord>(derivedKey(URL_, 'q8_0')))!;
    expect(record.chunks.map((c) => c.size)).toEqual([1024, 1024, 552]);
    expect(await readAll(store, manifest(), 'q4_0')).toBeNull(); // another variant is another file
  });

  it('a model whose content changed (another chunk hash) never gets the old file: it is deleted on lookup', async () => {
    const store = await withModel();
    await new DerivedFile(store, manifest(), 'q8_0', 1024).save(source(bytes(2000)));
    expect(await readAll(store, manifest('d'))).toBeNull();
    expect(await store.keys(['derived-chunk'])).toEqual([]);
    expect(await store.get(derivedKey(URL_, 'q8_0'))).toBeUndefined();
  });

  it('a damaged chunk is never served: reading it throws integrity and drops the whole entry', async () => {
    const store = await withModel();
    await new DerivedFile(store, manifest(), 'q8_0', 1024).save(source(bytes(2600)));
    const [key] = await store.keys(['derived-chunk']);
    const damaged = (await store.get<Uint8Array>(key!))!.slice();
    damaged[5] ^= 0xff;
    await store.write([[key!, damaged]]);
    await expect(readAll(store, manifest())).rejects.toMatchObject({ code: 'integrity', message: expect.stringMatching(/chunk 0 does not match its SHA-256/) });
    expect(await store.keys(['derived-chunk'])).toEqual([]);
    expect(await readAll(store, manifest())).toBeNull();
  });

  it('a record of the wrong shape (sizes that do not add up) is dropped, not read', async () => {
    const store = await withModel();
    await new DerivedFile(store, manifest(), 'q8_0', 1024).save(source(bytes(2000)));
    const r = (await store.get<DerivedRecord>(derivedKey(URL_, 'q8_0')))!;
    await store.write([[derivedKey(URL_, 'q8_0'), { ...r, size: r.size + 1 }]]);
    expect(await readAll(store, manifest())).toBeNull();
    expect(await store.keys(['derived-chunk'])).toEqual([]);
  });

  it('deleting the model deletes its derived files, even one still being saved', async () => {
    const store = await withModel();
    const saving = new DerivedFile(store, manifest(), 'q4_0', 1024).save(source(bytes(3000)));
    await deleteCachedModel(URL_, store);
    await saving;
    expect(await store.keys(['derived'])).toEqual([]);
    expect(await store.keys(['derived-chunk'])).toEqual([]);
  });

  it('a save that finishes after its model was deleted removes itself', async () => {
    const store = memoryStore(); // no manifest: the model is gone
    await new DerivedFile(store, manifest(), 'q8_0', 1024).save(source(bytes(1500)));
    expect(await store.keys(['derived'])).toEqual([]);
    expect(await store.keys(['derived-chunk'])).toEqual([]);
  });
});
