// Runs in Chromium (bundled and driven by bench/cache-bench.mjs): write and read throughput of the
// weight cache beside raw idb-keyval set/get of the same chunks and a plain fetch, in one run.
import { createStore, del, get, set, clear } from 'idb-keyval';
import { clearCache, idbStore, openCachedModel } from '../src/cache/index.ts';
import { chunkKey, manifestKey } from '../src/cache/manifest.ts';
import { beforeXxh64 } from '../test/helpers/older-manifest.ts';

/** One row of the table: throughput in MB/s (10^6 bytes per second). */
export interface BenchRow {
  readonly model: string;
  readonly bytes: number;
  readonly fetchOnly: number;
  readonly cacheWrite: number;
  /** Reads checked by XXH64 (chunks written by this version). */
  readonly cacheRead: number;
  /** Reads checked by SHA-256 (a cache written before XXH64: its manifest without them). */
  readonly cacheReadSha256: number;
  readonly cacheReadSize: number;
  readonly rawSet: number;
  readonly rawGet: number;
}

const mbps = (bytes: number, ms: number) => bytes / 1e3 / ms;

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of chunks) n += c.length;
  return n;
}

/** Measures one model folder served at /test-models/<name>/. */
async function benchOne(name: string): Promise<BenchRow> {
  const url = new URL(`/test-models/${name}/`, location.href).href;
  const store = idbStore('gpt-chat-bench', 'files');
  await clearCache(store);

  await fetch(url + 'config.json', { method: 'HEAD' }); // the server generates the folder on first use
  let t = performance.now();
  const res = await fetch(url + 'model.safetensors');
  let fetched = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) fetched += c.length;
  const fetchOnly = mbps(fetched, performance.now() - t);

  t = performance.now();
  const model = await openCachedModel(url, { store, retries: 0 });
  const cacheWrite = mbps(model.manifest.files.reduce((n, f) => n + f.size!, 0), performance.now() - t);

  t = performance.now();
  const read = await drain((await model.open('model.safetensors')).chunks);
  await model.verified();
  const cacheRead = mbps(read, performance.now() - t);
  // the same chunks as a cache written before XXH64 holds them: SHA-256 per chunk only
  await store.write([[manifestKey(url), beforeXxh64(model.manifest)]]);
  const older = await openCachedModel(url, { store });
  t = performance.now();
  await drain((await older.open('model.safetensors')).chunks);
  await older.verified(); // the checks of the chunks handed out while they ran
  const cacheReadSha256 = mbps(read, performance.now() - t);
  const sizeOnly = await openCachedModel(url, { store, verify: 'size' });
  t = performance.now();
  await drain((await sizeOnly.open('model.safetensors')).chunks);
  const cacheReadSize = mbps(read, performance.now() - t);

  // Raw IndexedDB: the same chunks through idb-keyval set/get, no hashing, no records.
  const raw = createStore('gpt-chat-bench-raw', 'raw');
  await clear(raw);
  const f = model.manifest.files.find((x) => x.name === 'model.safetensors')!;
  let setMs = 0;
  for (let i = 0; i < f.chunks.length; i++) {
    const bytes = (await store.get<Uint8Array>(chunkKey(url, f, i)))!;
    const t0 = performance.now();
    await set(i, bytes, raw);
    setMs += performance.now() - t0;
  }
  t = performance.now();
  let got = 0;
  for (let i = 0; i < f.chunks.length; i++) got += ((await get<Uint8Array>(i, raw)) ?? new Uint8Array()).length;
  const rawGet = mbps(got, performance.now() - t);
  for (let i = 0; i < f.chunks.length; i++) await del(i, raw);
  await clearCache(store);
  return { model: name, bytes: f.size!, fetchOnly, cacheWrite, cacheRead, cacheReadSha256, cacheReadSize, rawSet: mbps(got, setMs), rawGet };
}

/** Runs the benchmark for each model size (bytes), one after the other. */
export async function runCacheBench(sizes: number[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of sizes) rows.push(await benchOne(`bench-${size}`));
  return rows;
}

(globalThis as { runCacheBench?: typeof runCacheBench }).runCacheBench = runCacheBench;
