// Quantize on load with the quantized weights kept in the cache (src/cache/derived-file.ts): load
// time and weight bytes read of the first visit with `quantize` (reads the checkpoint, quantizes,
// keeps) against the second (reads the kept weights), beside a plain load of the checkpoint from
// the cache, all in one Chromium through the real worker bundle and IndexedDB, CPU backend.
// Models: the bundled demo model (F16), and the llama-15m (F16) and SmolLM2-135M (F16) shapes of
// the bench fixtures where generated.
//   npm run build && node tools/make-fixtures.mjs --bench && node bench/kept-quant-bench.mjs [--runs 3]
// or from another script: `import { runKeptQuantBench } from './kept-quant-bench.mjs'`.
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBenchBrowser, table } from './bench-browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const MODELS = [
  { name: 'gpt-chat-demo (1.9M, F16)', dir: join(root, 'models/gpt-chat-demo') },
  { name: 'llama-15m shape (F16)', dir: join(root, '.cache/bench-models/llama-15m-f16') },
  { name: 'SmolLM2-135M shape (F16)', dir: join(root, '.cache/bench-models/smollm2-135m-shape') },
];

/**
 * Runs the benchmark and prints a table.
 * @param {{ quantize?: 'q8_0' | 'q4_0', runs?: number, log?: (line: string) => void }} [options]
 */
export async function runKeptQuantBench({ quantize = 'q4_0', runs = 3, log = console.log } = {}) {
  if (!existsSync(join(root, 'dist/gpt-chat-worker.js'))) throw new Error('kept-quant-bench: dist/gpt-chat-worker.js is missing. HINT: run `npm run build` first.');
  const dir = mkdtempSync(join(tmpdir(), 'gpt-chat-kept-bench-'));
  symlinkSync(join(root, 'dist'), join(dir, 'dist'));
  mkdirSync(join(dir, 'models'));
  const models = MODELS.filter((m) => existsSync(join(m.dir, 'config.json')));
  models.forEach((m, i) => symlinkSync(m.dir, join(dir, 'models', String(i))));
  mkdirSync(join(dir, 'demo'));
  await build({
    entryPoints: [join(root, 'bench/kept-quant-bench.page.ts')], bundle: true, format: 'esm', target: 'es2022',
    outfile: join(dir, 'demo/bench.js'), logLevel: 'silent',
  });
  writeFileSync(join(dir, 'demo/index.html'), '<!doctype html><title>kept quantized weights bench</title><script type="module" src="/bench.js"></script>');
  const { origin, browser, close } = await openBenchBrowser(dir);
  const rows = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log('page error: ' + e.message));
    await page.goto(origin);
    await page.waitForFunction(() => globalThis.benchReady === true, { timeout: 60_000 });
    for (const [i, m] of models.entries()) {
      const r = await page.evaluate((u, q, n) => globalThis.keptBench(u, q, n), `${origin}models/${i}/`, quantize, runs);
      rows.push({ model: m.name, ...r });
    }
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
  const MB = (b) => (b / 2 ** 20).toFixed(1);
  log(`Load from the IndexedDB cache with quantize="${quantize}", Chromium, CPU backend, real worker; median of ${runs}`);
  log(table(
    ['model', 'plain ms', 'plain MB', '1st visit ms', '1st MB', 'keeping ms', '2nd visit ms', '2nd MB', '2nd / 1st ms', '2nd / 1st MB'],
    rows.map((r) => [
      r.model, r.plainMs.toFixed(0), MB(r.plainBytes), r.firstMs.toFixed(0), MB(r.firstBytes), r.keepMs.toFixed(0), r.secondMs.toFixed(0), MB(r.secondBytes),
      (r.secondMs / r.firstMs).toFixed(2) + 'x', (r.secondBytes / r.firstBytes).toFixed(2) + 'x',
    ]),
  ));
  log('plain: the checkpoint as stored, no quantize. 1st visit: reads the checkpoint, quantizes, keeps (keeping: after ready, in the background). 2nd visit: reads the kept weights.');
  return rows;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--runs');
  await runKeptQuantBench({ runs: i > 0 ? Number(process.argv[i + 1]) : undefined, quantize: process.argv.includes('--q8_0') ? 'q8_0' : 'q4_0' });
}
