import { describe, expect, it } from 'vitest';
import { deleteCachedModel, listCachedModels, memoryStore, type CacheStore } from '../../src/cache/index.ts';
import { DerivedFile, derivedKey, derivedPartialKey, type DerivedRecord, type PartialDerived } from '../../src/cache/derived-file.ts';
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
    await expect(readAll(store, manifest())).rejects.toMatchObject({ code: 'integrity', message: expect.stringMatching(/chunk 0 does not match the hash recorded/) });
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

/** A store over `inner` as one worker sees it (saves in progress are per store object), counting derived chunk writes. */
function visitStore(inner: CacheStore, opts: { failAfter?: number; quotaAfter?: number } = {}) {
  const counts = { chunks: 0, bytes: 0 };
  const store: CacheStore = {
    ...inner,
    async write(puts, dels) {
      const chunks = puts.filter(([k]) => k[0] === 'derived-chunk');
      if (chunks.length && opts.quotaAfter !== undefined && counts.chunks >= opts.quotaAfter) throw new DOMException('full', 'QuotaExceededError');
      if (chunks.length && opts.failAfter !== undefined && counts.chunks >= opts.failAfter) throw new Error('the transaction aborted');
      await inner.write(puts, dels);
      counts.chunks += chunks.length;
      for (const [, v] of chunks) counts.bytes += (v as Uint8Array).length;
    },
  };
  return { store, counts };
}

/** `data` as a source that stops for good after `n` bytes: the worker was terminated mid-save. */
const stalled = (data: Uint8Array, n: number) => ({
  size: data.length,
  async *chunks() {
    yield data.subarray(0, n);
    await new Promise(() => {});
  },
});

const roomy = { estimate: async () => ({ quota: 1e9, usage: 0 }) };

describe('a derived file saved in part', () => {
  it('a save cut short (the worker terminated) is never read as complete; the next save writes only the rest', async () => {
    const inner = await withModel();
    const data = bytes(5000, 7);
    const first = visitStore(inner);
    void new DerivedFile(first.store, manifest(), 'q4_0', 1024, roomy).save(stalled(data, 2500)); // never settles
    for (let i = 0; i < 100 && first.counts.chunks < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(first.counts.chunks).toBe(2);
    const next = visitStore(inner);
    expect(await readAll(next.store, manifest(), 'q4_0')).toBeNull();
    const partial = (await inner.get<PartialDerived>(derivedPartialKey(URL_, 'q4_0')))!;
    expect(partial.chunks.map((c) => c.size)).toEqual([1024, 1024]);

    const wrote = await new DerivedFile(next.store, manifest(), 'q4_0', 1024, roomy).save(source(data));
    expect(next.counts).toEqual({ chunks: 3, bytes: 5000 - 2048 });
    expect(wrote).toBe(5000 - 2048);
    expect(await readAll(next.store, manifest(), 'q4_0')).toEqual(data);
    expect(await inner.get(derivedPartialKey(URL_, 'q4_0'))).toBeUndefined();
  });

  it('a write that fails part way keeps the chunks stored, serves nothing, and the next save finishes', async () => {
    const inner = await withModel();
    const data = bytes(4000, 3);
    const failing = visitStore(inner, { failAfter: 1 });
    await expect(new DerivedFile(failing.store, manifest(), 'q8_0', 1024, roomy).save(source(data))).rejects.toThrow(/aborted/);
    expect(await readAll(inner, manifest())).toBeNull();
    const next = visitStore(inner);
    await new DerivedFile(next.store, manifest(), 'q8_0', 1024, roomy).save(source(data));
    expect(next.counts.chunks).toBe(3);
    expect(await readAll(inner, manifest())).toEqual(data);
  });

  it('a stored chunk that differs from the new bytes is written again, never reused', async () => {
    const inner = await withModel();
    const old = bytes(3000, 1);
    const first = visitStore(inner, { failAfter: 2 });
    await expect(new DerivedFile(first.store, manifest(), 'q8_0', 1024, roomy).save(source(old))).rejects.toThrow();
    const data = old.slice();
    data[1500] ^= 0xff; // chunk 1 differs
    const next = visitStore(inner);
    await new DerivedFile(next.store, manifest(), 'q8_0', 1024, roomy).save(source(data));
    expect(next.counts.chunks).toBe(2); // chunk 1 again, and chunk 2
    expect(await readAll(inner, manifest())).toEqual(data);
  });

  it('a progress record of another source, or damaged, is not resumed: its chunks are deleted', async () => {
    const inner = await withModel(manifest('d'));
    const first = visitStore(inner, { failAfter: 2 });
    await expect(new DerivedFile(first.store, manifest('d'), 'q8_0', 1024, roomy).save(source(bytes(3000)))).rejects.toThrow();
    // the model was refreshed: another source
    await inner.write([[manifestKey(URL_), manifest()]]);
    const next = visitStore(inner);
    await new DerivedFile(next.store, manifest(), 'q8_0', 1024, roomy).save(source(bytes(3000)));
    expect(next.counts.chunks).toBe(3);
    expect((await inner.keys(['derived-chunk'])).length).toBe(3);
    await inner.write([[derivedPartialKey(URL_, 'q4_0'), { version: 1, chunks: 'x' }]]);
    await new DerivedFile(inner, manifest(), 'q4_0', 1024, roomy).save(source(bytes(1000)));
    expect(await readAll(inner, manifest(), 'q4_0')).toEqual(bytes(1000));
  });

  it('the quota running out mid-save drops the derived file and nothing else; the model stays', async () => {
    const inner = await withModel();
    await inner.write([[['chunk', URL_, 'g1', 'model.safetensors', 0], bytes(1024)]]);
    await new DerivedFile(inner, manifest(), 'q8_0', 1024, roomy).save(source(bytes(2000))); // another variant, complete
    const full = visitStore(inner, { quotaAfter: 2 });
    await expect(new DerivedFile(full.store, manifest(), 'q4_0', 1024, roomy).save(source(bytes(4000)))).rejects.toMatchObject({ code: 'quota', message: expect.stringMatching(/q4_0 weights .* were not kept: the storage quota ran out.*untouched/) });
    expect(await inner.keys(['derived-chunk', URL_, 'q4_0'])).toEqual([]);
    expect(await inner.get(derivedPartialKey(URL_, 'q4_0'))).toBeUndefined();
    expect(await inner.get(manifestKey(URL_))).toEqual(manifest());
    expect(await inner.get(['chunk', URL_, 'g1', 'model.safetensors', 0])).toEqual(bytes(1024));
    expect(await readAll(inner, manifest(), 'q8_0')).toEqual(bytes(2000));
  });

  it('a save the estimate says will not fit writes nothing', async () => {
    const inner = await withModel();
    const { store, counts } = visitStore(inner);
    const tight = { estimate: async () => ({ quota: 10_000, usage: 9_000 }) };
    await expect(new DerivedFile(store, manifest(), 'q8_0', 1024, tight).save(source(bytes(3000)))).rejects.toMatchObject({ code: 'quota', message: expect.stringMatching(/need 3.0 kB and the browser reports 1.0 kB free/) });
    expect(counts.chunks).toBe(0);
    expect(await inner.keys(['derived-partial'])).toEqual([]);
  });
});

describe('kept copies in listCachedModels', () => {
  it('each with what it is and its bytes, complete or cut short, and gone with the model', async () => {
    const inner = await withModel();
    await new DerivedFile(inner, manifest(), 'q8_0', 1024, roomy).save(source(bytes(2600)));
    void new DerivedFile(visitStore(inner).store, manifest(), 'q4_0', 1024, roomy).save(stalled(bytes(3000), 1100));
    for (let i = 0; i < 100 && !(await inner.get(derivedPartialKey(URL_, 'q4_0'))); i++) await new Promise((r) => setTimeout(r, 5));
    const [m] = await listCachedModels(inner);
    expect(m).toMatchObject({ url: URL_, bytes: 2058, complete: true });
    expect(m!.kept).toEqual([
      { variant: 'q8_0', bytes: 2600, complete: true },
      { variant: 'q4_0', bytes: 1024, complete: false },
    ]);
    await deleteCachedModel(URL_, inner);
    expect(await listCachedModels(inner)).toEqual([]);
    expect(await inner.keys([])).toEqual([]);
  });
});
