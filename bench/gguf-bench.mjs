// Our runtime against llama.cpp itself on the same GGUF files, in one Chromium, in one run: decode
// tok/s of our CPU path (WebAssembly SIMD) and of @wllama/wllama (llama.cpp compiled to
// WebAssembly, one thread) on the llama-15m shape in F32, F16, Q8_0, Q4_0 and Q4_K, as ratios; and time to
// first token from our IndexedDB cache for the SmolLM2-135M shape in Q4_0 vs F16.
//   npm run build && node tools/make-fixtures.mjs --bench && node bench/gguf-bench.mjs [--tokens 128] [--runs 3] [--no-ttft]
// or from another script: `import { runGgufBench } from './gguf-bench.mjs'; await runGgufBench()`.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBenchBrowser, table } from './bench-browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const GGUF = join(root, '.cache/bench-models/gguf');
// the runtime bench's prompt (about 30 tokens with the bench models' tokenizer)
const PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';

/** A served folder: dist/, the bench GGUF files as models/, the page and llama.cpp's wasm build. */
async function servedRoot() {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-chat-gguf-bench-'));
  symlinkSync(join(root, 'dist'), join(dir, 'dist'));
  symlinkSync(GGUF, join(dir, 'models'));
  mkdirSync(join(dir, 'demo'));
  symlinkSync(join(root, 'node_modules/@wllama/wllama/esm'), join(dir, 'demo/wllama'));
  await build({
    entryPoints: [join(root, 'bench/gguf-bench.page.js')], bundle: true, format: 'esm', target: 'es2022',
    external: ['/dist/*', '/wllama/*'], outfile: join(dir, 'demo/bench.js'), logLevel: 'silent',
  });
  writeFileSync(join(dir, 'demo/index.html'), '<!doctype html><title>gguf bench</title><script type="module" src="/bench.js"></script>');
  return dir;
}

const mb = (file) => statSync(join(GGUF, file)).size / 2 ** 20;

/**
 * Runs the benchmark and prints two tables.
 * @param {{ types?: string[], tokens?: number, runs?: number, ttft?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ decode: object[], ttft: object[] }>}
 */
export async function runGgufBench({ types = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k'], tokens = 128, runs = 3, ttft = true, log = console.log } = {}) {
  if (!existsSync(join(root, 'dist/runtime.js'))) throw new Error('gguf-bench: dist/runtime.js is missing. HINT: run `npm run build` first.');
  const files = types.map((t) => `llama-15m-${t}.gguf`).filter((f) => existsSync(join(GGUF, f)));
  if (files.length === 0) throw new Error(`gguf-bench: no llama-15m GGUF files in ${GGUF}. HINT: run \`node tools/make-fixtures.mjs --bench\` first.`);
  const dir = await servedRoot();
  const { origin, browser, close } = await openBenchBrowser(dir);
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log('page error: ' + e.message));
    await page.goto(origin);
    await page.waitForFunction(() => globalThis.benchReady === true, { timeout: 60_000 });

    const decode = [];
    for (const file of files) {
      const at = `${origin}models/${file}`;
      const ours = await page.evaluate((u, p, n, r) => globalThis.decodeOurs(u, p, n, r), at, PROMPT, tokens, runs);
      const ref = await page.evaluate((u, p, n, r) => globalThis.decodeWllama(u, p, n, r), at, PROMPT, tokens, runs);
      if (ref.threads !== 1) throw new Error(`gguf-bench: wllama ran ${ref.threads} threads, not 1`);
      const row = { file, MB: mb(file), ours: ours.tokS, llamaCpp: ref.tokS, ratio: ours.tokS / ref.tokS, oursLoadMs: ours.loadMs, llamaCppLoadMs: ref.loadMs };
      decode.push(row);
      log(`  ${file}: ours ${row.ours.toFixed(1)} tok/s, llama.cpp ${row.llamaCpp.toFixed(1)} tok/s (${row.ratio.toFixed(2)}x)`);
    }
    const f32 = decode.find((r) => r.file.includes('-f32'));
    log(`\nDecode, llama-15m shape (dim 288, 6 layers, vocab 32000, tied), ${tokens} greedy tokens after a ${PROMPT.length}-character prompt, median of ${runs} runs, Chromium CPU`);
    log(table(['file', 'MB', 'ours tok/s', 'llama.cpp tok/s', 'ours / llama.cpp', 'ours vs our F32', 'llama.cpp vs its F32'], decode.map((r) => [
      r.file, r.MB.toFixed(1), r.ours.toFixed(1), r.llamaCpp.toFixed(1), r.ratio.toFixed(2) + 'x',
      f32 ? (r.ours / f32.ours).toFixed(2) + 'x' : '-', f32 ? (r.llamaCpp / f32.llamaCpp).toFixed(2) + 'x' : '-',
    ])));

    const ttftRows = [];
    if (ttft) {
      for (const type of ['f16', 'q4_0']) {
        const file = `smollm2-135m-${type}.gguf`;
        if (!existsSync(join(GGUF, file))) {
          log(`  ${file}: not generated, skipped (node tools/make-fixtures.mjs --bench)`);
          continue;
        }
        const r = await page.evaluate((u, p, n) => globalThis.ttftFromCache(u, p, n), `${origin}models/${file}`, PROMPT, 2);
        ttftRows.push({ file, MB: mb(file), ms: r.ms });
        log(`  ${file}: first token ${r.ms.toFixed(0)} ms from the cache`);
      }
      const f16 = ttftRows.find((r) => r.file.includes('-f16'));
      if (ttftRows.length) {
        log('\nTime to first token from the IndexedDB cache, SmolLM2-135M shape (random weights), CPU: open the cached file, load, prefill the prompt; median of 2');
        log(table(['file', 'MB', 'first token ms', 'vs F16'], ttftRows.map((r) => [r.file, r.MB.toFixed(1), r.ms.toFixed(0), f16 ? (r.ms / f16.ms).toFixed(2) + 'x' : '-'])));
      }
    }
    return { decode, ttft: ttftRows };
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  await runGgufBench({ tokens: arg('--tokens'), runs: arg('--runs'), ttft: !process.argv.includes('--no-ttft') });
}
