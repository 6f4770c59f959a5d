// The engine's loader keeps quantize on load's result in the cache (src/cache/derived-file.ts,
// src/runtime/model/kept-weights.ts): a real checkpoint from a real local HTTP server, the real
// loader, and a store that counts the bytes each load reads from it.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteCachedModel, listCachedModels, memoryStore, type CacheKey, type CacheStore } from '../../src/cache/index.ts';
import { derivedKey, derivedSaves } from '../../src/cache/derived-file.ts';
import { canonicalModelUrl } from '../../src/formats/model-location.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
// @ts-expect-error a plain JS module shared with the browser tests
import { createModelServer } from '../helpers/model-server.mjs';

const LLAMA = fileURLToPath(new URL('../fixtures/generated/llama/', import.meta.url));
const GGUF = fileURLToPath(new URL('../fixtures/generated/gguf/', import.meta.url));

let server: Server;
let url = '';
let ggufUrl = '';

beforeAll(async () => {
  const models = createModelServer({ dirs: { llama: LLAMA, gguf: GGUF } });
  server = createServer((req, res) => {
    if (!models.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `http://127.0.0.1:${(server.address() as { port: number }).port}/test-models/`;
  url = canonicalModelUrl(`${host}llama/`);
  ggufUrl = canonicalModelUrl(`${host}gguf/llama.gguf`);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A store kept across "visits" (persistent, as IndexedDB is) that adds up the bytes read per key kind. */
function countingStore(read: Map<string, number>): CacheStore {
  const store = memoryStore();
  return {
    ...store,
    persistent: true,
    get: async <T>(key: CacheKey) => {
      const v = await store.get<T>(key);
      if (v instanceof Uint8Array) read.set(String(key[0]), (read.get(String(key[0])) ?? 0) + v.length);
      return v;
    },
  };
}

async function visit(store: CacheStore, quantize: 'q8_0' | 'q4_0', model = url) {
  const engine = new InPageEngine(modelLoader({ store }));
  try {
    const info = await engine.load({ url: model, engine: 'cpu', quantize });
    const ids: number[] = [];
    for await (const e of engine.chat([{ role: 'user', content: 'hello there' }], { temperature: 0, maxTokens: 16 })) if (e.type === 'token') ids.push(e.id);
    return { info, ids };
  } finally {
    engine.dispose();
  }
}

async function kept(store: CacheStore, q: string, model = url): Promise<void> {
  for (let i = 0; i < 200 && !(await store.get(derivedKey(model, q))); i++) await new Promise((r) => setTimeout(r, 10));
}

/**
 * `inner` as the next visit's worker sees it (saves in progress are per store object), counting
 * the kept chunks it writes; `cut` makes the write of the complete record fail (the worker was
 * terminated, or the transaction aborted, just before it), `full` every kept chunk's (the quota).
 */
function nextVisit(inner: CacheStore, fault?: 'cut' | 'full') {
  const written = { chunks: 0 };
  const store: CacheStore = {
    ...inner,
    write: async (puts, dels) => {
      if (fault === 'cut' && puts.some(([k]) => k[0] === 'derived')) throw new Error('the transaction aborted');
      if (fault === 'full' && puts.some(([k]) => k[0] === 'derived-chunk')) throw new DOMException('full', 'QuotaExceededError');
      await inner.write(puts, dels);
      written.chunks += puts.filter(([k]) => k[0] === 'derived-chunk').length;
    },
  };
  return { store, written };
}


describe('the engine keeps quantized weights in the cache', () => {
  it('the second load reads the kept Q8_0 weights instead of the checkpoint, and answers the same', async () => {
    const read = new Map<string, number>();
    const store = countingStore(read);
    const first = await visit(store, 'q8_0');
    expect(first.info.quantizedFromCache).toBeUndefined();
    await kept(store, 'q8_0');
    const checkpoint = read.get('chunk') ?? 0;
    read.clear();
    const second = await visit(store, 'q8_0');
    expect(second.info).toMatchObject({ quantizedFromCache: true, fromCache: true });
    expect(second.ids).toEqual(first.ids);
    const derived = read.get('derived-chunk') ?? 0;
    const files = read.get('chunk') ?? 0; // config.json, tokenizer.json ...: no weights
    expect(derived / checkpoint).toBeGreaterThan(0.2);
    expect(derived / checkpoint).toBeLessThan(0.32);
    expect(files).toBeLessThan(checkpoint * 0.1);

    // another quantize type is another kept file: never the q8_0 one
    const q4 = await visit(store, 'q4_0');
    expect(q4.info.quantizedFromCache).toBeUndefined();
    await kept(store, 'q4_0');
    expect((await visit(store, 'q4_0')).info.quantizedFromCache).toBe(true);
    expect((await visit(store, 'q8_0')).info.quantizedFromCache).toBe(true);
  });

  it('a save cut short is never read as complete; the next load resumes it (no chunk written twice) and ends with a complete one', async () => {
    const inner = countingStore(new Map());
    const first = nextVisit(inner, 'cut');
    const a = await visit(first.store, 'q8_0');
    await derivedSaves(first.store, url); // the save the load started, settled
    expect(first.written.chunks).toBeGreaterThan(0);
    expect(await inner.get(derivedKey(url, 'q8_0'))).toBeUndefined();
    const second = nextVisit(inner);
    const b = await visit(second.store, 'q8_0');
    expect(b.info.quantizedFromCache).toBeUndefined(); // nothing complete to read: quantized again
    await kept(inner, 'q8_0');
    expect(second.written.chunks).toBe(0); // every chunk was stored by the first visit
    const c = await visit(nextVisit(inner).store, 'q8_0');
    expect(c.info.quantizedFromCache).toBe(true);
    expect(c.ids).toEqual(a.ids);
  });

  it('the quota running out while keeping: the load succeeds, the model stays cached, nothing kept is left', async () => {
    const inner = countingStore(new Map());
    const full = nextVisit(inner, 'full');
    const a = await visit(full.store, 'q4_0');
    await derivedSaves(full.store, url);
    expect(await inner.keys(['derived-chunk'])).toEqual([]);
    expect(await inner.keys(['derived-partial'])).toEqual([]);
    const b = await visit(nextVisit(inner).store, 'q4_0');
    expect(b.info).toMatchObject({ fromCache: true });
    expect(b.ids).toEqual(a.ids);
  });

  it('a GGUF loaded with quantize is kept too, and listed with its model', async () => {
    const read = new Map<string, number>();
    const store = countingStore(read);
    const first = await visit(store, 'q8_0', ggufUrl);
    expect(first.info.quantizedFromCache).toBeUndefined();
    await kept(store, 'q8_0', ggufUrl);
    const [listed] = await listCachedModels(store);
    expect(listed!.kept).toEqual([{ variant: 'q8_0', bytes: expect.any(Number), complete: true }]);
    expect(listed!.kept[0]!.bytes / listed!.bytes).toBeGreaterThan(0.2);
    expect(listed!.kept[0]!.bytes / listed!.bytes).toBeLessThan(0.35); // llama.gguf is f32
    read.clear();
    const second = await visit(store, 'q8_0', ggufUrl);
    expect(second.info).toMatchObject({ quantizedFromCache: true, fromCache: true });
    expect(second.ids).toEqual(first.ids);
    // the GGUF's header (and the chunks read ahead of it) for the config and tokenizer, the kept weights for the rest
    expect(read.get('derived-chunk')).toBe(listed!.kept[0]!.bytes);
    await deleteCachedModel(ggufUrl, store);
    expect(await store.keys([])).toEqual([]);
  });

  it('a load without quantize keeps nothing', async () => {
    const store = countingStore(new Map());
    await visit(store, undefined as unknown as 'q8_0');
    expect(await store.keys(['derived'])).toEqual([]);
  });
});
