// One download per model across contexts, in Chromium: two real workers (test/helpers/download-worker.ts,
// the weight cache alone) open the same model at once. Two workers of one page share IndexedDB,
// Web Locks and BroadcastChannel exactly as two tabs do (one origin, one storage partition), and
// terminating a worker releases its locks as closing a tab does.
import { expect } from 'chai';
import { clearCache, idbStore, openCachedModel, type CacheProgress } from '../../src/cache/index.ts';
import { downloadLockName } from '../../src/cache/cross-context.ts';
import { until as waitUntil } from '../helpers/waits.ts';

const CHUNK = 64 * 1024;
const DB = 'gpt-chat-cross-context-test';
const store = idbStore(DB, 'files');
const MODEL = 'tabs-700000';
const url = new URL(`/test-models/${MODEL}/`, location.href).href;
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ bytes: Record<string, number>; gets: Record<string, string[]> }> => (await fetch('/test-models/_stats')).json();

const until = (what: string, ok: () => boolean, timeoutMs = 60_000) => waitUntil(what, ok, timeoutMs, 10);

/** A worker opening the model: its progress reports and how it ended. */
function opener() {
  const worker = new Worker(new URL('../helpers/download-worker.ts', import.meta.url), { type: 'module' });
  const progress: CacheProgress[] = [];
  let end: { type: 'done'; fromCache: boolean } | { type: 'error'; code: string; message: string } | undefined;
  worker.addEventListener('message', (e) => {
    if (e.data.type === 'progress') progress.push(e.data.progress);
    else end = e.data;
  });
  worker.addEventListener('error', (e) => (end = { type: 'error', code: 'worker', message: e.message }));
  worker.postMessage({ url, db: DB, chunkSize: CHUNK });
  return { worker, progress, ended: () => end, done: () => until('the worker to finish', () => end !== undefined).then(() => end!) };
}

async function servedSize(file: string): Promise<number> {
  return Number((await fetch(`/test-models/${MODEL}/${file}`, { method: 'HEAD' })).headers.get('Content-Length'));
}

describe('one download per model across tabs (two workers: Web Locks + BroadcastChannel)', () => {
  const workers: Worker[] = [];
  beforeEach(async () => {
    await control({ reset: true });
    await clearCache(store);
  });
  afterEach(() => {
    for (const w of workers.splice(0)) w.terminate();
  });

  it('the second context fetches nothing, shows the first one\'s progress, and loads from the cache', async () => {
    // Slow enough that the second opens while the first is mid-way.
    await control({ faults: [{ file: 'model.safetensors', kind: 'slow', delayMs: 15 }] });
    const a = opener();
    workers.push(a.worker);
    await until('the first download to start', () => a.progress.some((p) => p.file === 'model.safetensors' && p.fileLoaded > 0));
    const b = opener();
    workers.push(b.worker);
    // While the first downloads it holds the model's lock; the second waits for it.
    await until('the second to queue for the lock', () => b.progress.length > 0);
    const locks = await navigator.locks.query();
    expect(locks.held!.map((l) => l.name)).to.include(downloadLockName(url));
    expect(locks.pending!.map((l) => l.name)).to.include(downloadLockName(url));

    expect(await a.done()).to.deep.equal({ type: 'done', fromCache: false });
    expect((await b.done()).type).to.equal('done');
    // The second showed the first one's progress: the same byte counts, growing, before it finished.
    const relayed = b.progress.filter((p) => !p.done);
    expect(relayed.length).to.be.greaterThan(2);
    expect(relayed.every((p) => a.progress.some((q) => q.loaded === p.loaded && q.file === p.file))).to.equal(true);
    for (let i = 1; i < relayed.length; i++) expect(relayed[i]!.loaded).to.be.at.least(relayed[i - 1]!.loaded);

    // The server sent every file once, whole: one GET each, no Range.
    const { gets, bytes } = await stats();
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) {
      const path = `/test-models/${MODEL}/${file}`;
      expect(gets[path], file).to.deep.equal(['']);
      expect(bytes[path], file).to.equal(await servedSize(file));
    }
    const cached = await openCachedModel(url, { store, chunkSize: CHUNK, fetch: () => Promise.reject(new TypeError('offline')) });
    expect(cached.fromCache).to.equal(true);
  });

  it('closing the first mid-download: the second takes over and fetches only the chunks not stored', async () => {
    await control({ faults: [{ file: 'model.safetensors', kind: 'slow', delayMs: 25 }] });
    const a = opener();
    workers.push(a.worker);
    await until('the first to store three chunks', () => a.progress.some((p) => p.file === 'model.safetensors' && p.fileLoaded >= 3 * CHUNK + 16 * 1024));
    const b = opener();
    workers.push(b.worker);
    await until('the second to show the first one\'s progress', () => b.progress.length > 0);
    a.worker.terminate(); // the tab closes: its lock is released
    expect(a.ended()).to.equal(undefined);
    expect((await b.done()).type).to.equal('done');

    const { gets } = await stats();
    const ranges = gets[`/test-models/${MODEL}/model.safetensors`]!;
    // The first GET from the start; the second resumes at a chunk boundary at or past the third
    // chunk: the chunks the first stored were not fetched again.
    expect(ranges.length).to.equal(2);
    expect(ranges[0]).to.equal('');
    const resumedAt = Number(/^bytes=(\d+)-\d*$/.exec(ranges[1]!)?.[1]);
    expect(resumedAt % CHUNK).to.equal(0);
    expect(resumedAt).to.be.at.least(3 * CHUNK);
    // What the second shows continues from what the first had stored.
    const own = b.progress.filter((p) => p.file === 'model.safetensors');
    expect(own[0]!.fileLoaded).to.be.at.least(3 * CHUNK);

    // And the cached bytes are the server's.
    const cached = await openCachedModel(url, { store, chunkSize: CHUNK, fetch: () => Promise.reject(new TypeError('offline')) });
    const stream = await cached.open('model.safetensors');
    const served = new Uint8Array(await (await fetch(`/test-models/${MODEL}/model.safetensors`)).arrayBuffer());
    let o = 0;
    let same = true;
    for await (const c of stream.chunks) {
      for (let i = 0; i < c.length; i++) same &&= c[i] === served[o + i];
      o += c.length;
    }
    expect(o).to.equal(served.length);
    expect(same).to.equal(true);
  });
});
