// One load path, counted: a real checkpoint served by a real local HTTP server
// (test/helpers/model-server.mjs) loaded by the in-page engine with the real loader (cache +
// runtime), every HTTP request and every store read of one load written down, cold and warm.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type CacheKey, type CacheStore } from '../../src/cache/index.ts';
import type { EngineLoadProgress } from '../../src/engine/engine.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
// @ts-expect-error a plain JS module shared with the browser tests
import { createModelServer } from '../helpers/model-server.mjs';

const GPT2 = fileURLToPath(new URL('../fixtures/generated/gpt2/', import.meta.url));
/** The fixture's files, in download order. */
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors'];
/** The probe: a HEAD per file the cache knows of; the chat template files are absent here (404). */
const PROBE = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'chat_template.jinja', 'chat_template.json', 'model.safetensors'].map((f) => `HEAD ${f}`);

let server: Server;
let url = '';

beforeAll(async () => {
  const models = createModelServer({ dirs: { gpt2: GPT2 } });
  server = createServer((req, res) => {
    if (!models.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/test-models/gpt2`; // no trailing slash on purpose
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Every request as "METHOD file". */
function countingFetch(log: string[]): typeof fetch {
  return async (input, init) => {
    log.push(`${init?.method ?? 'GET'} ${String(input).slice(url.length + 1)}`);
    return fetch(input, init);
  };
}

/** A memory store that writes down its reads: "get <kind>", "keys <kind>", "values <kind>". */
function countingStore(log: string[], store = memoryStore()): CacheStore {
  const kind = (key: CacheKey) => String(key[0] ?? '(all)');
  return {
    ...store,
    get: (key) => (log.push(`get ${kind(key)}`), store.get(key)),
    keys: (prefix) => (log.push(`keys ${kind(prefix)}`), store.keys(prefix)),
    values: (prefix) => (log.push(`values ${kind(prefix)}`), store.values(prefix)),
  };
}

const tally = (log: readonly string[]) => log.reduce<Record<string, number>>((n, x) => ({ ...n, [x]: (n[x] ?? 0) + 1 }), {});
const offline: typeof fetch = async () => {
  throw new TypeError('network blocked by the test');
};

describe('one load path', () => {
  const store = memoryStore();

  it('cold: one manifest read, one probe (a HEAD per file), one GET per file', async () => {
    const requests: string[] = [];
    const reads: string[] = [];
    const engine = new InPageEngine(modelLoader({ store: countingStore(reads, store), fetch: countingFetch(requests) }));
    const info = await engine.load({ url, engine: 'cpu' });
    expect(info).toMatchObject({ url: url + '/', modelType: 'gpt2', backend: 'cpu', fromCache: false });
    expect(requests).toEqual([...PROBE, ...FILES.map((f) => `GET ${f}`)]);
    // The manifest once (absent), the partial record once and the stored chunks once (the resume
    // plan), then each file's chunks read back once by the runtime (one 16 MiB chunk per file here).
    expect(tally(reads)).toEqual({ 'get manifest': 1, 'get partial': 1, 'keys chunk': 1, 'get chunk': FILES.length });
    engine.dispose();
  });

  it('warm: one manifest read, one chunk listing, no request at all (works offline)', async () => {
    const reads: string[] = [];
    const engine = new InPageEngine(modelLoader({ store: countingStore(reads, store), fetch: offline }));
    const info = await engine.load({ url: url + '/', engine: 'cpu' });
    expect(info).toMatchObject({ modelType: 'gpt2', fromCache: true });
    expect(tally(reads)).toEqual({ 'get manifest': 1, 'keys chunk': 1, 'get chunk': FILES.length });
    engine.dispose();
  });

  it('warm: says where the time went, phase by phase (ModelInfo.loadTimings)', async () => {
    const engine = new InPageEngine(modelLoader({ store, fetch: offline }));
    const t0 = performance.now();
    const { loadTimings: t = {} } = await engine.load({ url, engine: 'cpu' });
    const wall = performance.now() - t0;
    engine.dispose();
    for (const phase of ['manifest', 'chunkReads', 'hashing', 'readWait', 'parse', 'backend', 'weights', 'upload', 'prepare', 'total'] as const) {
      expect(t[phase], phase).toBeGreaterThan(0);
    }
    expect(t.workerStart).toBeUndefined(); // no worker here
    // sequential phases fit in the load, which fits in the wall time the caller saw
    expect(t.manifest! + t.parse! + t.backend! + t.weights! + t.prepare!).toBeLessThanOrEqual(t.total! + 1);
    expect(t.total!).toBeLessThanOrEqual(wall + 1);
    expect(t.upload!).toBeLessThanOrEqual(t.weights!);
  });

  it('a large download asks inside the load, after its one probe, and the go-ahead joins it', async () => {
    const requests: string[] = [];
    const engine = new InPageEngine(modelLoader({ store: memoryStore(), fetch: countingFetch(requests) }));
    const asked: EngineLoadProgress[] = [];
    const waiting = engine.load({ url, engine: 'cpu', confirmAbove: 1000 }, (p) => asked.push(p));
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toMatchObject({ phase: 'confirm', loaded: 0 });
    expect(asked[0]!.total).toBeGreaterThan(1000);
    expect(requests).toEqual(PROBE); // probed, nothing downloaded yet
    const progress: EngineLoadProgress[] = [];
    const [a, b] = await Promise.all([waiting, engine.load({ url, engine: 'cpu' }, (p) => progress.push(p))]);
    expect(a).toEqual(b);
    expect(progress.some((p) => p.phase === 'download' && p.loaded === asked[0]!.total)).toBe(true);
    expect(requests).toEqual([...PROBE, ...FILES.map((f) => `GET ${f}`)]);
    engine.dispose();
  });

  it('a small download does not ask', async () => {
    const asked: EngineLoadProgress[] = [];
    const engine = new InPageEngine(modelLoader({ store: memoryStore(), fetch: countingFetch([]) }));
    await engine.load({ url, engine: 'cpu', confirmAbove: 50 * 1024 * 1024 }, (p) => asked.push(p));
    expect(asked.filter((p) => p.phase === 'confirm')).toEqual([]);
    engine.dispose();
  });

  it('aborting a load that waits for the go-ahead ends it as aborted', async () => {
    const engine = new InPageEngine(modelLoader({ store: memoryStore(), fetch: countingFetch([]) }));
    const abort = new AbortController();
    let asked = false;
    const waiting = engine.load({ url, engine: 'cpu', confirmAbove: 1000 }, () => (asked = true), abort.signal);
    await expect.poll(() => asked).toBe(true);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    engine.dispose();
  });
});
