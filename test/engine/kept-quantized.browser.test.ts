// Quantize on load keeps its result in the cache: the built worker (dist/gpt-chat-worker.js, `npm
// run build` first) over real IndexedDB. The first load with `quantize` reads the checkpoint and
// keeps the quantized weights beside it; a second load, in a fresh worker, reads those (a fraction
// of the bytes, ModelInfo.quantizedFromCache) and answers exactly as the first. A damaged kept
// file is dropped and made again, never served; deleting the model deletes it.
import { expect } from 'chai';
import { defaultStore, deleteCachedModel } from '../../src/cache/index.ts';
import { derivedKey, derivedPartialKey, type DerivedRecord } from '../../src/cache/derived-file.ts';
import type { EngineLoadProgress, ModelInfo } from '../../src/engine/engine.ts';
import { WorkerClient } from '../../src/engine/worker-client.ts';

const MODEL = new URL('/models/gpt-chat-demo/', location.href).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const store = defaultStore();

/** Loads the demo model quantized in a worker of its own, and answers one prompt greedily. */
async function visit(name: string): Promise<{ info: ModelInfo; weightBytes: number; reply: string }> {
  const client = new WorkerClient({ workerUrl: `/dist/gpt-chat-worker.js?${name}` });
  try {
    let weightBytes = 0;
    const info = await client.load({ url: MODEL, engine: 'cpu', quantize: 'q8_0' }, (p: EngineLoadProgress) => {
      if (p.phase === 'weights') weightBytes = p.total;
    });
    let reply = '';
    for await (const e of client.chat([{ role: 'user', content: 'What is the capital of France?' }], { temperature: 0, maxTokens: 24 })) {
      if (e.type === 'token') reply += e.text;
    }
    // the worker saves the kept weights after the load; a page closed before that keeps nothing
    if (!info.quantizedFromCache) await keptRecord();
    return { info, weightBytes, reply };
  } finally {
    client.dispose();
  }
}

async function keptRecord(timeoutMs = 30_000): Promise<DerivedRecord> {
  const start = performance.now();
  for (;;) {
    const r = await store.get<DerivedRecord>(derivedKey(MODEL, 'q8_0'));
    if (r) return r;
    if (performance.now() - start > timeoutMs) throw new Error('the quantized weights were never kept');
    await sleep(50);
  }
}

describe('quantized weights kept in the cache', () => {
  before(() => deleteCachedModel(MODEL));
  after(() => deleteCachedModel(MODEL));

  it('the second visit reads the kept weights (a fraction of the bytes) and answers exactly as the first', async () => {
    const first = await visit('first');
    expect(first.info.quantizedFromCache).to.equal(undefined);
    expect(first.reply.length).to.be.greaterThan(0);
    const kept = await keptRecord();

    const second = await visit('second');
    expect(second.info.quantizedFromCache).to.equal(true);
    expect(second.info.fromCache).to.equal(true);
    expect(second.reply).to.equal(first.reply);
    // the demo checkpoint is f16: Q8_0 is 8.5 bits a weight, plus f32 norms and the GGUF header
    expect(second.weightBytes).to.be.lessThan(kept.size);
    expect(second.weightBytes / first.weightBytes).to.be.within(0.45, 0.6);
  });

  it('a damaged kept chunk is dropped, never served: the load quantizes the checkpoint again and keeps it anew', async () => {
    const before = await keptRecord();
    const key = ['derived-chunk', MODEL, 'q8_0', before.source, 0] as const;
    const bytes = (await store.get<Uint8Array>(key))!.slice();
    for (let i = 2000; i < 2100; i++) bytes[i] = bytes[i]! ^ 0x5a;
    await store.write([[key, bytes]]);

    const repaired = await visit('damaged');
    expect(repaired.info.quantizedFromCache).to.equal(undefined);
    const again = await keptRecord();
    expect(again.chunks[0]!.sha256).to.equal(before.chunks[0]!.sha256); // the same bytes, kept again
    const next = await visit('after-repair');
    expect(next.info.quantizedFromCache).to.equal(true);
    expect(next.reply).to.equal(repaired.reply);
  });

  it('a worker terminated as soon as the model is ready leaves nothing read as complete; the next visit ends with a complete copy', async () => {
    for (const kind of ['derived', 'derived-partial', 'derived-chunk']) await store.deletePrefix([kind, MODEL]);
    // ready, then the page closes: the save the worker started after "ready" is cut wherever it was
    const client = new WorkerClient({ workerUrl: '/dist/gpt-chat-worker.js?terminated' });
    const info = await client.load({ url: MODEL, engine: 'cpu', quantize: 'q8_0' }, () => {});
    client.dispose();
    expect(info.quantizedFromCache).to.equal(undefined);
    await sleep(200);
    const cut = await store.get<DerivedRecord>(derivedKey(MODEL, 'q8_0'));
    if (cut) {
      // it finished before the worker went: complete, every chunk it lists stored
      for (let i = 0; i < cut.chunks.length; i++) expect((await store.get<Uint8Array>(['derived-chunk', MODEL, 'q8_0', cut.source, i]))?.length).to.equal(cut.chunks[i]!.size);
    }
    const next = await visit('after-terminated');
    const kept = await keptRecord();
    expect(await store.get(derivedPartialKey(MODEL, 'q8_0'))).to.equal(undefined);
    const last = await visit('after-terminated-2');
    expect(last.info.quantizedFromCache).to.equal(true);
    expect(last.reply).to.equal(next.reply);
    expect(kept.size).to.be.greaterThan(0);
  });

  it('deleting the model deletes its kept weights', async () => {
    await keptRecord();
    await deleteCachedModel(MODEL);
    expect(await store.keys(['derived', MODEL])).to.deep.equal([]);
    expect(await store.keys(['derived-chunk', MODEL])).to.deep.equal([]);
  });
});
