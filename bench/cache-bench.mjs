// Benchmark of the IndexedDB weight cache in headless Chromium: cache write/read MB/s for 64 MB and
// 256 MB models beside raw idb-keyval set/get and a plain fetch, measured in the same run.
//   node bench/cache-bench.mjs [sizeMB ...]        (default 64 256)
// or from another script: `import { runCacheBench } from './cache-bench.mjs'; await runCacheBench()`.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { chromiumPath } from '../tools/check-chromium.mjs';
import { createModelServer } from '../test/helpers/model-server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Runs the benchmark and prints a table.
 * @param {{ sizesMB?: number[], log?: (line: string) => void }} [options]
 * @returns {Promise<object[]>} the rows (MB/s per measurement)
 */
export async function runCacheBench({ sizesMB = [64, 256], log = console.log } = {}) {
  const bundle = await build({
    entryPoints: [here + 'cache-bench.browser.ts'],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0].text;
  const models = createModelServer();
  const server = createServer((req, res) => {
    if (models.handle(req, res)) return;
    if (req.url === '/bench.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script type="module" src="/bench.js"></script>');
  });
  // localhost is a secure context: crypto.subtle and navigator.storage are available.
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://localhost:${server.address().port}`;
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log('page error: ' + e.message));
    await page.goto(origin + '/');
    await page.waitForFunction(() => typeof globalThis.runCacheBench === 'function');
    const sizes = sizesMB.map((mb) => Math.round(mb * 1024 * 1024));
    const rows = await page.evaluate((s) => globalThis.runCacheBench(s), sizes);
    const cols = ['fetchOnly', 'cacheWrite', 'rawSet', 'cacheRead', 'cacheReadSha256', 'cacheReadSize', 'rawGet'];
    log('IndexedDB weight cache, MB/s (16 MiB chunks, Chromium headless, localhost HTTP)');
    log(['model'.padEnd(10), ...cols.map((c) => c.padStart(16))].join(''));
    for (const r of rows) log([`${(r.bytes / 2 ** 20).toFixed(0)} MiB`.padEnd(10), ...cols.map((c) => r[c].toFixed(1).padStart(16))].join(''));
    return rows;
  } finally {
    await browser.close();
    server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  runCacheBench(sizes.length ? { sizesMB: sizes } : {}).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
