// The weight cache in headless Chromium: real IndexedDB, real HTTP against the fault-injecting
// middleware of test/helpers/model-server.mjs (registered in web-test-runner.config.mjs).
import {
  clearCache, idbStore, isModelCached, listCachedModels, openCachedModel,
  type CacheProgress, type CacheStore, type OpenCachedModelOptions,
} from '../../src/cache/index.ts';
import { chunkKey, manifestKey } from '../../src/cache/manifest.ts';
import type { ModelFiles } from '../../src/formats/model-files.ts';
import { beforeXxh64 } from '../helpers/older-manifest.ts';

/** The value IndexedDB itself holds under `key` in the test database, not through the store. */
async function rawValue(key: readonly (string | number)[], put?: unknown): Promise<unknown> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('gpt-chat-cache-test');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  try {
    const s = db.transaction('files', put === undefined ? 'readonly' : 'readwrite').objectStore('files');
    const r = put === undefined ? s.get([...key]) : s.put(put, [...key]);
    return await new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(put === undefined ? r.result : undefined);
      r.onerror = () => reject(r.error);
    });
  } finally {
    db.close();
  }
}

// Mocha globals provided by @web/test-runner.

function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}
function equal<T>(actual: T, expected: T, what: string): void {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const CHUNK = 64 * 1024;
const store = idbStore('gpt-chat-cache-test', 'files');
const base = (name: string) => new URL(`/test-models/${name}/`, location.href).href;
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ requests: Record<string, number>; bytes: Record<string, number> }> => (await fetch('/test-models/_stats')).json();
const modelRequests = async (name: string) =>
  Object.entries((await stats()).requests).filter(([p]) => p.startsWith(`/test-models/${name}/`)).reduce((n, [, c]) => n + c, 0);
const noFetch: typeof fetch = async () => {
  throw new TypeError('Failed to fetch (network blocked by the test)');
};
const open = (name: string, o: OpenCachedModelOptions = {}) => openCachedModel(base(name), { store, chunkSize: CHUNK, retries: 0, ...o });

/** A file's bytes as a loader reads them: its chunks, then `verified()` (the checks still running). */
async function readAll(m: Pick<ModelFiles, 'open' | 'verified'>, name: string): Promise<Uint8Array> {
  const s = await m.open(name);
  const out = new Uint8Array(s.size);
  let o = 0;
  for await (const c of s.chunks) {
    out.set(c, o);
    o += c.length;
  }
  await m.verified?.();
  equal(o, s.size, `bytes read from ${name}`);
  return out;
}
async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected an error, got none');
}
async function served(name: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(`/test-models/${name}/model.safetensors`)).arrayBuffer());
}
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('weight cache in Chromium (IndexedDB + real HTTP)', () => {
  beforeEach(async () => {
    await control({ reset: true });
    await clearCache(store);
  });

  it('first load streams with monotonic progress; the second makes no request and works offline', async () => {
    const progress: CacheProgress[] = [];
    await open('web-300000', { onProgress: (p) => progress.push(p) });
    assert(progress.length > 3, `only ${progress.length} progress events`);
    for (let i = 1; i < progress.length; i++) assert(progress[i]!.loaded >= progress[i - 1]!.loaded, `progress went back at ${i}`);
    const last = progress[progress.length - 1]!;
    equal(last.loaded, last.total, 'final loaded');
    assert(last.total > 300_000, `total ${last.total}`);
    assert(progress.some((p) => p.bytesPerSecond > 0), 'no rate reported');

    await control({ reset: true });
    const again = await open('web-300000');
    const bytes = await readAll(again, 'model.safetensors');
    equal(JSON.parse(await again.text('config.json')).model_type, 'gpt2', 'config model_type');
    equal(await modelRequests('web-300000'), 0, 'requests to the model files on the second load');
    const offline = await open('web-300000', { fetch: noFetch });
    assert(sameBytes(await readAll(offline, 'model.safetensors'), bytes), 'offline bytes differ');
    assert(sameBytes(bytes, await served('web-300000')), 'cached bytes differ from the server');
    equal(again.kept, true, 'kept');
  });

  it('resumes after a dropped connection, downloading only the missing chunks', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 200_000 }] });
    const e = await errorOf(open('web-400000'));
    equal(e.code, 'network', 'error code');
    equal(await store.get(manifestKey(base('web-400000'))), undefined, 'manifest after the drop');
    await control({ reset: true });
    const m = await open('web-400000');
    equal((await stats()).bytes['/test-models/web-400000/model.safetensors'], 400_000 - 3 * CHUNK, 'bytes served on resume');
    assert(sameBytes(await readAll(m, 'model.safetensors'), await served('web-400000')), 'resumed bytes differ');
  });

  it('a server ignoring Range is detected and the file read whole', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 200_000 }] });
    await errorOf(open('web-300000'));
    await control({ reset: true });
    await control({ faults: [{ file: 'model.safetensors', kind: 'ignore-range' }] });
    const m = await open('web-300000');
    equal((await stats()).bytes['/test-models/web-300000/model.safetensors'], 300_000, 'bytes served');
    assert(sameBytes(await readAll(m, 'model.safetensors'), await served('web-300000')), 'bytes differ');
  });

  it('keeps chunks as Blobs, reads them back as bytes, and still reads a chunk stored as a Uint8Array', async () => {
    const url = base('web-300000');
    const m = await open('web-300000');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const raw = await rawValue(chunkKey(url, f, 1));
    assert(raw instanceof Blob && raw.size === CHUNK, `chunk 1 is held as ${Object.prototype.toString.call(raw)}`);
    const bytes = await store.get<Uint8Array>(chunkKey(url, f, 1));
    assert(bytes instanceof Uint8Array && sameBytes(bytes, (await served('web-300000')).subarray(CHUNK, 2 * CHUNK)), 'chunk 1 read back');
    // a cache written before chunks were Blobs
    await rawValue(chunkKey(url, f, 2), new Uint8Array(await ((await rawValue(chunkKey(url, f, 2))) as Blob).arrayBuffer()));
    assert((await rawValue(chunkKey(url, f, 2))) instanceof Uint8Array, 'chunk 2 rewritten as a Uint8Array');
    assert(sameBytes(await readAll(await open('web-300000', { fetch: noFetch }), 'model.safetensors'), await served('web-300000')), 'bytes differ');
  });

  it('a cache written before XXH64 loads by SHA-256 and gets the XXH64s recorded in its manifest (one IndexedDB transaction)', async () => {
    const url = base('web-300000');
    const m = await open('web-300000');
    const older = beforeXxh64(m.manifest);
    await store.write([[manifestKey(url), older]]);
    const again = await open('web-300000', { fetch: noFetch });
    assert(again.manifest.files.every((f) => f.chunks.every((c) => c!.xxh64 === undefined)), 'read as the older manifest');
    assert(sameBytes(await readAll(again, 'model.safetensors'), await served('web-300000')), 'bytes differ');
    await again.verified();
    // the chunks read (the weights file's), not those of files nobody read
    const want = JSON.stringify(m.manifest.files.map((f) => f.chunks.map((c) => (f.name === 'model.safetensors' ? c!.xxh64 : null))));
    const recorded = async () => JSON.stringify(((await rawValue(manifestKey(url))) as typeof m.manifest).files.map((f) => f.chunks.map((c) => c!.xxh64 ?? null)));
    for (let i = 0; i < 100 && (await recorded()) !== want; i++) await new Promise((r) => setTimeout(r, 10));
    equal(await recorded(), want, 'XXH64s recorded');
    // update() changes nothing where the change says so, and sees a missing key as undefined
    await store.update(['test-update'], (v) => (v === undefined ? 'first' : undefined));
    await store.update(['test-update'], (v) => (v === undefined ? 'again' : undefined));
    equal(await store.get<string>(['test-update']), 'first', 'update kept the value');
    await store.write([], [['test-update']]);
  });

  it('a corrupted chunk and a truncated file are detected on load, and repaired online', async () => {
    const url = base('web-300000');
    const m = await open('web-300000');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const bad = (await store.get<Uint8Array>(chunkKey(url, f, 1)))!;
    bad[5] ^= 1;
    await store.write([[chunkKey(url, f, 1), bad]]);
    const e = await errorOf(readAll(await open('web-300000', { fetch: noFetch }), 'model.safetensors'));
    equal(e.code, 'integrity', 'corrupted chunk error');
    assert(/cached chunk 1 .*hash recorded.*dropped/.test(e.message), e.message);
    equal(await isModelCached(url, store), false, 'cached after corruption');

    await control({ reset: true });
    const repaired = await open('web-300000');
    equal((await stats()).bytes['/test-models/web-300000/model.safetensors'], CHUNK, 'bytes re-downloaded');
    assert(sameBytes(await readAll(repaired, 'model.safetensors'), await served('web-300000')), 'repaired bytes differ');

    const f2 = repaired.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const last = (await store.get<Uint8Array>(chunkKey(url, f2, 4)))!;
    await store.write([[chunkKey(url, f2, 4), last.slice(0, 1000)]]);
    const e2 = await errorOf(readAll(await open('web-300000', { fetch: noFetch }), 'model.safetensors'));
    equal(e2.code, 'integrity', 'truncated chunk error');
    assert(/chunk 4 .*has 1000 bytes, the manifest says/.test(e2.message), e2.message);
    const again = await open('web-300000');
    assert(sameBytes(await readAll(again, 'model.safetensors'), await served('web-300000')), 'bytes differ after the second repair');
  });

  it('QuotaExceededError mid-download: clear error, no manifest, earlier models intact', async () => {
    await open('older-200000');
    let chunkWrites = 0;
    const full: CacheStore = {
      ...store,
      async write(puts, dels) {
        if (puts.some(([k]) => k[0] === 'chunk' && String(k[1]).includes('bigger')) && ++chunkWrites === 3) {
          throw new DOMException('Quota exceeded.', 'QuotaExceededError');
        }
        return store.write(puts, dels);
      },
    };
    const e = await errorOf(open('bigger-300000', { store: full }));
    equal(e.code, 'quota', 'error code');
    assert(/needs 30\d\.\d kB.*deleteCachedModel/.test(e.message), e.message);
    equal(await store.get(manifestKey(base('bigger-300000'))), undefined, 'manifest of the failed model');
    const list = await listCachedModels(store);
    equal(list.length, 1, 'models listed');
    equal(list[0]!.url, base('older-200000'), 'the older model');
    await control({ reset: true });
    const older = await open('older-200000', { fetch: noFetch });
    assert(sameBytes(await readAll(older, 'model.safetensors'), await served('older-200000')), 'older model bytes differ');
  });

  it('an HTML page served instead of the weights is caught before it is stored', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'html' }] });
    const e = await errorOf(open('web-300000'));
    equal(e.code, 'network', 'error code');
    assert(/HTML page/.test(e.message), e.message);
    await control({ faults: [{ file: 'model.safetensors', kind: 'html-binary' }] });
    const e2 = await errorOf(open('web-300000'));
    assert(/not a model file: it starts like an HTML/.test(e2.message), e2.message);
    const stored = (await store.keys(['chunk', base('web-300000')])).filter((k) => k[3] === 'model.safetensors');
    equal(stored.length, 0, 'chunks of the HTML stored');
  });

  it('two loads at once share one download; 404 and 500 name the file', async () => {
    const [a, b] = await Promise.all([open('pair-300000'), open('pair-300000')]);
    equal(a.manifest.createdAt, b.manifest.createdAt, 'same manifest');
    equal((await stats()).bytes['/test-models/pair-300000/model.safetensors'], 300_000, 'bytes served once');
    await control({ faults: [{ file: 'config.json', kind: 'status', status: 404 }] });
    const e = await errorOf(open('lost-100000'));
    equal(e.code, 'file-missing', '404 code');
    assert(/config.json was not found/.test(e.message), e.message);
    await control({ faults: [{ file: 'model.safetensors', kind: 'status', status: 500 }] });
    const e2 = await errorOf(open('lost-100000'));
    assert(e2.code === 'network' && /HTTP 500/.test(e2.message), e2.message);
  });
});
