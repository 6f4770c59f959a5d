// The engine's loader keeps quantize on load's result in the cache (src/cache/derived-file.ts,
// src/runtime/model/kept-weights.ts): a real checkpoint from a real local HTTP server, the real
// loader, and a store that counts the bytes each load reads from it.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, type CacheKey, type CacheStore } from '../../src/cache/index.ts';
import { derivedKey } from '../../src/cache/derived-file.ts';
import { canonicalModelUrl } from '../../src/formats/model-location.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import { modelLoader } from '../../src/engine/load-model.ts';
// @ts-expect-error a plain JS module shared with the browser tests
import { createModelServer } from '../helpers/model-server.mjs';

const LLAMA = fileURLToPath(new URL('../fixtures/generated/llama/', import.meta.url));

let server: Server;
let url = '';

beforeAll(async () => {
  const models = createModelServer({ dirs: { llama: LLAMA } });
  server = createServer((req, res) => {
    if (!models.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = canonicalModelUrl(`http://127.0.0.1:${(server.address() as { port: number }).port}/test-models/llama/`);
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

async function visit(store: CacheStore, quantize: 'q8_0' | 'q4_0') {
  const engine = new InPageEngine(modelLoader({ store }));
  try {
    const info = await engine.load({ url, engine: 'cpu', quantize });
    const ids: number[] = [];
    for await (const e of engine.chat([{ role: 'user', content: 'hello there' }], { temperature: 0, maxTokens: 16 })) if (e.type === 'token') ids.push(e.id);
    return { info, ids };
  } finally {
    engine.dispose();
  }
}

async function kept(store: CacheStore, q: string): Promise<void> {
  for (let i = 0; i < 200 && !(await store.get(derivedKey(url, q))); i++) await new Promise((r) => setTimeout(r, 10));
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

  it('a load without quantize keeps nothing', async () => {
    const store = countingStore(new Map());
    await visit(store, undefined as unknown as 'q8_0');
    expect(await store.keys(['derived'])).toEqual([]);
  });
});
