// The page of bench/kept-quant-bench.mjs: loads a model in the real worker bundle over the real
// IndexedDB cache, timing each visit and noting the weight bytes it read.
import { defaultStore, deleteCachedModel } from '../src/cache/index.ts';
import { derivedKey } from '../src/cache/derived-file.ts';
import type { ModelSpec } from '../src/engine/engine.ts';
import { WorkerClient } from '../src/engine/worker-client.ts';

let workers = 0;

/** One visit: a fresh worker loads `url`; ms to ready, the weight bytes read, and whether they were kept ones. */
async function visit(url: string, quantize?: 'q8_0' | 'q4_0', waitForKept = false) {
  const client = new WorkerClient({ workerUrl: `/dist/gpt-chat-worker.js?visit=${workers++}` });
  try {
    let bytes = 0;
    const spec: ModelSpec = { url, engine: 'cpu', ...(quantize ? { quantize } : {}) };
    const t0 = performance.now();
    const info = await client.load(spec, (p) => {
      if (p.phase === 'weights') bytes = p.total;
    });
    const ms = performance.now() - t0;
    let keptMs = 0;
    if (waitForKept && quantize) {
      while (!(await defaultStore().get(derivedKey(url, quantize)))) await new Promise((r) => setTimeout(r, 5));
      keptMs = performance.now() - t0 - ms;
    }
    return { ms, bytes, kept: info.quantizedFromCache === true, keptMs };
  } finally {
    client.dispose();
  }
}

/** Download once, then: F16 from the cache, first visit with quantize (quantizes and keeps), second visit (reads the kept weights). */
async function keptBench(url: string, quantize: 'q8_0' | 'q4_0', runs: number) {
  await deleteCachedModel(url);
  await visit(url); // the download, not measured
  const rows = { plain: [] as number[], first: [] as number[], second: [] as number[], keep: [] as number[] };
  let bytes = { plain: 0, first: 0, second: 0 };
  for (let i = 0; i < runs; i++) {
    const plain = await visit(url);
    const first = await visit(url, quantize, true);
    const second = await visit(url, quantize);
    if (first.kept || !second.kept) throw new Error(`kept-quant-bench: visit ${i}: the first visit read kept weights, or the second did not`);
    rows.plain.push(plain.ms);
    rows.first.push(first.ms);
    rows.keep.push(first.keptMs);
    rows.second.push(second.ms);
    bytes = { plain: plain.bytes, first: first.bytes, second: second.bytes };
    // the next run starts again without kept weights
    await defaultStore().write([], [derivedKey(url, quantize)]);
  }
  await deleteCachedModel(url);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { plainMs: median(rows.plain), firstMs: median(rows.first), keepMs: median(rows.keep), secondMs: median(rows.second), ...{ plainBytes: bytes.plain, firstBytes: bytes.first, secondBytes: bytes.second } };
}

(globalThis as unknown as Record<string, unknown>).keptBench = keptBench;
(globalThis as unknown as Record<string, unknown>).benchReady = true;
