// The whole cache against a real local HTTP server (test/helpers/model-server.mjs) with the
// in-memory store. The same scenarios run against IndexedDB in cache.browser.test.ts.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  clearCache, deleteCachedModel, isModelCached, listCachedModels, memoryStore, openCachedModel, refreshModel,
  type CacheProgress, type CacheStore, type OpenCachedModelOptions,
} from '../../src/cache/index.ts';
import { chunkKey, manifestKey, partialKey, type ModelRecord } from '../../src/cache/manifest.ts';
import type { ModelFiles } from '../../src/formats/model-files.ts';
// @ts-expect-error a plain JS module shared with the browser tests
import { createModelServer } from '../helpers/model-server.mjs';
import { beforeXxh64 } from '../helpers/older-manifest.ts';

const CHUNK = 64 * 1024;
let server: Server;
let origin = '';

beforeAll(async () => {
  const models = createModelServer();
  server = createServer((req, res) => {
    if (!models.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const control = (body: unknown) => fetch(`${origin}/test-models/_control`, { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ requests: Record<string, number>; bytes: Record<string, number> }> =>
  (await fetch(`${origin}/test-models/_stats`)).json();
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const noFetch: typeof fetch = async () => {
  throw new TypeError('network blocked by the test');
};

let store: CacheStore;
beforeEach(async () => {
  await control({ reset: true });
  store = memoryStore();
});

const open = (name: string, o: OpenCachedModelOptions = {}) =>
  openCachedModel(`${origin}/test-models/${name}`, { store, chunkSize: CHUNK, retries: 0, storage: undefined, ...o });

/** A file's bytes as a loader reads them: its chunks, then `verified()` (the checks still running). */
async function readAll(files: Pick<ModelFiles, 'open' | 'verified'>, name: string): Promise<Uint8Array> {
  const s = await files.open(name);
  const out = new Uint8Array(s.size);
  let o = 0;
  for await (const c of s.chunks) {
    out.set(c, o);
    o += c.length;
  }
  await files.verified?.();
  expect(o).toBe(s.size);
  return out;
}

/** toEqual on 300 kB typed arrays takes seconds in vitest; compare bytes directly. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('cache with a real server (memory store)', () => {
  it('downloads with monotonic progress, then loads with no request at all', async () => {
    const progress: CacheProgress[] = [];
    const m = await open('tiny-300000', { onProgress: (p) => progress.push(p) });
    const total = progress[progress.length - 1]!.total;
    expect(total).toBeGreaterThan(300_000);
    expect(progress[progress.length - 1]).toMatchObject({ loaded: total, done: true });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.loaded).toBeGreaterThanOrEqual(progress[i - 1]!.loaded);
    expect(await m.has('generation_config.json')).toBe(false);
    expect(m.manifest.absent).toContain('generation_config.json');
    expect(JSON.parse(await m.text('config.json')).model_type).toBe('gpt2');
    const direct = new Uint8Array(await (await fetch(`${origin}/test-models/tiny-300000/model.safetensors`)).arrayBuffer());

    await control({ reset: true });
    const again = await open('tiny-300000', { fetch: noFetch });
    expect(sameBytes(await readAll(again, 'model.safetensors'), direct)).toBe(true);
    expect(sum((await stats()).requests)).toBe(0);
    expect(await isModelCached(`${origin}/test-models/tiny-300000/`, store)).toBe(true);
  });

  it('resumes after a dropped connection, fetching only the missing chunks', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 200_000 }] });
    const e = await errorOf(open('tiny-400000'));
    expect(e.code).toBe('network');
    expect(e.message).toMatch(/connection (dropped|closed).*resumes/);
    expect(await isModelCached(`${origin}/test-models/tiny-400000`, store)).toBe(false);
    const partial = (await store.get<ModelRecord>(partialKey(`${origin}/test-models/tiny-400000/`)))!;
    const stored = partial.files.find((f) => f.name === 'model.safetensors')!.chunks.filter(Boolean).length;
    expect(stored).toBe(3); // 200 000 bytes = 3 full chunks of 64 KiB
    expect(await store.get(manifestKey(`${origin}/test-models/tiny-400000/`))).toBeUndefined();

    await control({ reset: true });
    const m = await open('tiny-400000');
    const served = (await stats()).bytes['/test-models/tiny-400000/model.safetensors'];
    expect(served).toBe(400_000 - 3 * CHUNK);
    const bytes = await readAll(m, 'model.safetensors');
    expect(sameBytes(bytes, new Uint8Array(await (await fetch(`${origin}/test-models/tiny-400000/model.safetensors`)).arrayBuffer()))).toBe(true);
  });

  it('retries a dropped connection by itself when retries are allowed', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 150_000 }] });
    const m = await open('tiny-300000', { retries: 1, sleep: async () => {} });
    expect(m.manifest.files.find((f) => f.name === 'model.safetensors')!.size).toBe(300_000);
    // 150 000 bytes went out before the drop; the retry asks only for what was not stored. How many
    // whole chunks were stored before the cut depends on timing (one or two of 64 KiB), so the
    // bound is: at least one chunk was not fetched again, and the file reads back whole.
    const served = (await stats()).bytes['/test-models/tiny-300000/model.safetensors'];
    expect(served).toBeLessThanOrEqual(150_000 + 300_000 - CHUNK);
    expect(served).toBeGreaterThanOrEqual(150_000 + 300_000 - 2 * CHUNK);
    expect((await readAll(m, 'model.safetensors')).length).toBe(300_000);
  });

  it('notices a server that ignores Range and reads the whole file from it', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 200_000 }] });
    await errorOf(open('tiny-300000'));
    await control({ reset: true });
    await control({ faults: [{ file: 'model.safetensors', kind: 'ignore-range' }] });
    const m = await open('tiny-300000');
    expect((await stats()).bytes['/test-models/tiny-300000/model.safetensors']).toBe(300_000);
    expect((await readAll(m, 'model.safetensors')).length).toBe(300_000);
  });

  it('rejects a wrong Content-Range without storing it', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'drop', after: 200_000 }] });
    await errorOf(open('tiny-300000'));
    await control({ faults: [{ file: 'model.safetensors', kind: 'bad-range' }] });
    const e = await errorOf(open('tiny-300000'));
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/asked for bytes=196608-299999, the server sent Content-Range "bytes 196609-299999\/300000"/);
    const m = await open('tiny-300000'); // the fault was used up: the resume now works
    expect((await readAll(m, 'model.safetensors')).length).toBe(300_000);
  });

  it('detects a corrupted and a truncated chunk on load, then repairs only that chunk', async () => {
    const url = `${origin}/test-models/tiny-300000/`;
    const m = await open('tiny-300000');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const good = await readAll(m, 'model.safetensors');
    const bad = (await store.get<Uint8Array>(chunkKey(url, f, 2)))!;
    bad[100] ^= 0xff;
    await store.write([[chunkKey(url, f, 2), bad]]);
    const again = await open('tiny-300000', { fetch: noFetch });
    const e = await errorOf(readAll(again, 'model.safetensors'));
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/model.safetensors: cached chunk 2 \(bytes 131072-196607\) does not match the hash recorded.*dropped/);
    expect(await isModelCached(url, store)).toBe(false);

    await control({ reset: true });
    const repaired = await open('tiny-300000');
    expect((await stats()).bytes['/test-models/tiny-300000/model.safetensors']).toBe(CHUNK);
    expect(sameBytes(await readAll(repaired, 'model.safetensors'), good)).toBe(true);

    // Truncated: the last chunk loses its tail.
    const f2 = repaired.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const last = (await store.get<Uint8Array>(chunkKey(url, f2, 4)))!;
    await store.write([[chunkKey(url, f2, 4), last.slice(0, 10)]]);
    const e2 = await errorOf(readAll(await open('tiny-300000', { fetch: noFetch }), 'model.safetensors'));
    expect(e2.code).toBe('integrity');
    expect(e2.message).toMatch(/chunk 4 .* has 10 bytes, the manifest says 37856/);
  });

  it('checks every chunk against its XXH64 before serving it: a damaged later chunk is never served, and the copy is dropped', async () => {
    const url = `${origin}/test-models/tiny-300000/`;
    const m = await open('tiny-300000');
    const good = await readAll(m, 'model.safetensors');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    expect(f.chunks.every((c) => /^[0-9a-f]{16}$/.test(c!.xxh64 ?? ''))).toBe(true);
    const bad = (await store.get<Uint8Array>(chunkKey(url, f, 3)))!;
    bad[7] ^= 0x01;
    await store.write([[chunkKey(url, f, 3), bad]]);
    const served: Uint8Array[] = [];
    const again = await open('tiny-300000', { fetch: noFetch });
    const e = await errorOf(
      (async () => {
        for await (const c of (await again.open('model.safetensors')).chunks) served.push(c);
      })(),
    );
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/cached chunk 3 .* does not match the hash recorded/);
    expect(served.map((c) => c.length)).toEqual([CHUNK, CHUNK, CHUNK]);
    expect(await isModelCached(url, store)).toBe(false);
    await control({ reset: true });
    expect(sameBytes(await readAll(await open('tiny-300000'), 'model.safetensors'), good)).toBe(true); // repaired
  });

  it('reads a cache written before XXH64 by its SHA-256: a later chunk is served while its hash runs, and verified() names the damaged one', async () => {
    const url = `${origin}/test-models/tiny-300000/`;
    const m = await open('tiny-300000');
    const good = await readAll(m, 'model.safetensors');
    // the manifest as an earlier version wrote it: no xxh64 on any chunk
    const old = beforeXxh64(m.manifest);
    await store.write([[manifestKey(url), old]]);
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const bad = (await store.get<Uint8Array>(chunkKey(url, f, 3)))!;
    bad[7] ^= 0x01;
    await store.write([[chunkKey(url, f, 3), bad]]);
    const served: Uint8Array[] = [];
    const again = await open('tiny-300000', { fetch: noFetch });
    expect(again.manifest.files[0]!.chunks[0]!.xxh64).toBeUndefined();
    for await (const c of (await again.open('model.safetensors')).chunks) served.push(c);
    expect(served.map((c) => c.length)).toEqual([CHUNK, CHUNK, CHUNK, CHUNK, 300_000 - 4 * CHUNK]);
    const e = await errorOf(again.verified());
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/cached chunk 3 .* does not match the hash recorded/);
    expect(await isModelCached(url, store)).toBe(false);
    // once dropped, nothing more is served from that copy
    expect((await errorOf(again.open('model.safetensors'))).code).toBe('integrity');
    await control({ reset: true });
    expect(sameBytes(await readAll(await open('tiny-300000'), 'model.safetensors'), good)).toBe(true); // repaired
  });

  it('records the XXH64 of the chunks a cache written before XXH64 had checked by SHA-256, and never brings back a deleted manifest', async () => {
    const url = `${origin}/test-models/tiny-300000/`;
    const m = await open('tiny-300000');
    const older = beforeXxh64(m.manifest);
    await store.write([[manifestKey(url), older]]);
    const again = await open('tiny-300000', { fetch: noFetch });
    const good = await readAll(again, 'model.safetensors');
    await again.verified();
    for (let i = 0; i < 100 && !(await store.get<ModelRecord>(manifestKey(url)))!.files.some((f) => f.chunks.some((c) => c!.xxh64)); i++) await new Promise((r) => setTimeout(r, 10));
    const upgraded = (await store.get<ModelRecord>(manifestKey(url)))!;
    const f = upgraded.files.find((x) => x.name === 'model.safetensors')!;
    expect(f.chunks.map((c) => c!.xxh64)).toEqual(m.manifest.files.find((x) => x.name === 'model.safetensors')!.chunks.map((c) => c!.xxh64));
    // the next load checks them by XXH64, and serves the same bytes
    const third = await open('tiny-300000', { fetch: noFetch });
    expect(third.manifest.files.find((x) => x.name === 'model.safetensors')!.chunks.every((c) => c!.xxh64)).toBe(true);
    expect(sameBytes(await readAll(third, 'model.safetensors'), good)).toBe(true);

    // deleted while a load of the older manifest still checks: the record stays deleted
    await store.write([[manifestKey(url), older]]);
    const fourth = await open('tiny-300000', { fetch: noFetch });
    await readAll(fourth, 'model.safetensors');
    await store.write([], [manifestKey(url)]);
    await fourth.verified();
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.get(manifestKey(url))).toBeUndefined();
    await control({ reset: true });
    await open('tiny-300000'); // downloaded again for the tests after this one
  });

  it('checks a file\'s first chunk (its headers) before serving it', async () => {
    const url = `${origin}/test-models/tiny-300000/`;
    const m = await open('tiny-300000');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    const bad = (await store.get<Uint8Array>(chunkKey(url, f, 0)))!;
    bad[3] ^= 0x01;
    await store.write([[chunkKey(url, f, 0), bad]]);
    const served: Uint8Array[] = [];
    const stream = await (await open('tiny-300000', { fetch: noFetch })).open('model.safetensors');
    const e = await errorOf(
      (async () => {
        for await (const c of stream.chunks) served.push(c);
      })(),
    );
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/cached chunk 0 .* does not match the hash recorded/);
    expect(served).toEqual([]);
    await control({ reset: true });
    await open('tiny-300000'); // repaired for the tests after this one
  });

  it('fails cleanly on a quota error mid-download and keeps other models', async () => {
    await open('first-200000');
    let writes = 0;
    const full: CacheStore = {
      ...store,
      async write(puts, dels) {
        if (puts.some(([k]) => k[0] === 'chunk' && String(k[1]).includes('second')) && ++writes === 3) {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        return store.write(puts, dels);
      },
    };
    const e = await errorOf(open('second-300000', { store: full }));
    expect(e.code).toBe('quota');
    expect(e.message).toMatch(/needs 30\d\.\d kB.*delete cached models/i);
    const list = await listCachedModels(store);
    expect(list.map((x) => [x.url.replace(origin, ''), x.complete])).toEqual([['/test-models/first-200000/', true]]);
    expect((await store.keys(['chunk', `${origin}/test-models/second-300000/`])).length).toBe(0);
    const first = await open('first-200000', { fetch: noFetch });
    expect((await readAll(first, 'model.safetensors')).length).toBe(200_000);
  });

  it('takes an HTML page for an optional file as its absence (an app server answering every path with index.html)', async () => {
    await control({ faults: [{ file: 'chat_template.jinja', kind: 'html', method: 'HEAD' }, { file: 'tokenizer_config.json', kind: 'html', method: 'HEAD' }] });
    const m = await open('tiny-300000');
    expect(m.manifest.absent).toEqual(expect.arrayContaining(['chat_template.jinja', 'tokenizer_config.json']));
    expect(await m.has('chat_template.jinja')).toBe(false);
  });

  it('catches an HTML page instead of weights before storing it', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'html', times: 2 }] });
    expect(await errorOf(open('tiny-300000'))).toMatchObject({ code: 'network', message: expect.stringMatching(/HTML page \(Content-Type text\/html/) });
    await control({ reset: true });
    await control({ faults: [{ file: 'model.safetensors', kind: 'html-binary' }] });
    const e = await errorOf(open('tiny-300000'));
    expect(e.message).toMatch(/model.safetensors is not a model file: it starts like an HTML/);
    expect((await store.keys(['chunk'])).filter((k) => k[3] === 'model.safetensors')).toEqual([]);
  });

  it('reports 404 and 500 with the file name', async () => {
    await control({ faults: [{ file: 'config.json', kind: 'status', status: 404 }] });
    expect(await errorOf(open('tiny-300000'))).toMatchObject({ code: 'file-missing', message: expect.stringMatching(/config.json was not found/) });
    await control({ faults: [{ file: 'model.safetensors', kind: 'status', status: 500, times: 2 }] });
    expect(await errorOf(open('tiny-300000'))).toMatchObject({ code: 'network', message: expect.stringMatching(/HTTP 500/) });
  });

  it('downloads sharded checkpoints and shares one download between two loads', async () => {
    const [a, b] = await Promise.all([open('sharded-300000-shards3'), open('sharded-300000-shards3')]);
    expect(a.manifest).toEqual(b.manifest);
    expect(await a.has('model.safetensors')).toBe(false);
    expect(await a.has('model-00002-of-00003.safetensors')).toBe(true);
    const s = await stats();
    for (const [path, n] of Object.entries(s.requests)) {
      if (path.includes('-of-')) expect(n).toBe(2); // HEAD + GET, once
    }
  });

  it('enforces an expected SHA-256 and drops a mismatching file', async () => {
    const bytes = new Uint8Array(await (await fetch(`${origin}/test-models/tiny-200000/model.safetensors`)).arrayBuffer());
    const right = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((x) => x.toString(16).padStart(2, '0')).join('');
    const m = await open('tiny-200000', { sha256: { 'model.safetensors': right } });
    expect(m.manifest.files.find((f) => f.name === 'model.safetensors')!.sha256).toBe(right);
    const e = await errorOf(open('tiny-200000', { sha256: { 'model.safetensors': 'f'.repeat(64) }, fetch: noFetch }));
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/model.safetensors has SHA-256 [0-9a-f]{64}, expected f{64}.*dropped/);
    expect(await isModelCached(`${origin}/test-models/tiny-200000`, store)).toBe(false);
    expect((await errorOf(open('tiny-200000', { sha256: { 'model.bin': right } }))).code).toBe('bad-argument');
  });

  it('keeps the cached copy when the server changes until refresh, which fetches only what changed', async () => {
    const url = `${origin}/test-models/tiny-200000/`;
    await open('tiny-200000');
    await control({ version: { 'tiny-200000': 2 } });
    const cached = await open('tiny-200000');
    expect(JSON.parse(await cached.text('config.json')).version).toBe(1);
    await control({ reset: true });
    await control({ version: { 'tiny-200000': 2 } });
    const { changed, model } = await refreshModel(url, { store, chunkSize: CHUNK, retries: 0 });
    expect(changed.sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(await model.text('config.json')).version).toBe(2);
    expect((await errorOf(cached.text('config.json'))).code).toBe('integrity'); // the old chunks are gone
    expect((await refreshModel(url, { store, chunkSize: CHUNK })).changed).toEqual([]);
  });

  it('runs from memory when IndexedDB is unavailable and says so', async () => {
    const none: CacheStore = { ...memoryStore(), persistent: true, available: async () => false };
    const said: string[] = [];
    const m = await open('tiny-200000', { store: none, onNotKept: (s) => said.push(s) });
    expect(m.kept).toBe(false);
    expect(said[0]).toMatch(/runs from memory/);
    expect((await readAll(m, 'model.safetensors')).length).toBe(200_000);
  });

  it('aborts, keeps the stored chunks, and deletes and clears on request', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'slow', delayMs: 30 }] });
    const ac = new AbortController();
    const p = open('tiny-400000', { signal: ac.signal, onProgress: (x) => x.fileLoaded > 150_000 && ac.abort() });
    expect((await errorOf(p)).code).toBe('aborted');
    const list = await listCachedModels(store);
    expect(list).toHaveLength(1);
    expect(list[0]!.complete).toBe(false);
    expect(list[0]!.bytes).toBeGreaterThan(0);
    await open('tiny-200000');
    await deleteCachedModel(`${origin}/test-models/tiny-400000`, store);
    expect((await listCachedModels(store)).map((x) => x.complete)).toEqual([true]);
    await clearCache(store);
    expect(await listCachedModels(store)).toEqual([]);
    expect(await store.keys([])).toEqual([]);
  });

  it('warns when the estimate says the model will not fit', async () => {
    const warnings: string[] = [];
    await open('tiny-200000', {
      storage: { estimate: async () => ({ quota: 100_000, usage: 50_000 }) },
      onQuotaWarning: (w) => warnings.push(`${w.needed}>${w.available}`),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^2\d{5}>50000$/);
  });
});

describe('a chunk lost from the store', () => {
  it('is detected on load: a clear error offline, a repair of that chunk online', async () => {
    const url = `${origin}/test-models/lost-200000/`;
    const m = await open('lost-200000');
    const f = m.manifest.files.find((x) => x.name === 'model.safetensors')!;
    await store.write([], [chunkKey(url, f, 1)]);
    const e = await errorOf(open('lost-200000', { fetch: noFetch }));
    expect(e.code).toBe('integrity');
    expect(e.message).toMatch(/cached copy of .*lost-200000\/ is incomplete \(model.safetensors lacks chunk 1\) and could not be repaired/);
    await control({ reset: true });
    const repaired = await open('lost-200000');
    expect((await stats()).bytes['/test-models/lost-200000/model.safetensors']).toBe(CHUNK);
    expect((await readAll(repaired, 'model.safetensors')).length).toBe(200_000);
  });
});
