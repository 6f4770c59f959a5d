// Time to first token from the IndexedDB cache, from page load, with where the time goes: a page
// with <gpt-chat> (the real bundle, worker and cache, headless Chromium) is opened once to
// download the model, then again `runs` times, each a fresh navigation with the model already
// stored: ms from navigation to the first token of a reply, and the ready event's loadTimings
// (README "Where a load's time goes"). CPU backend (what `auto` picks on this machine's adapter).
//   npm run build && node tools/make-fixtures.mjs --bench && node bench/ttft-bench.mjs [--runs 3] [--compare DIST] [--only NAME] [--typing-ms N]
// --typing-ms N: the message is sent N ms after ready, as a visitor types it, with a system prompt
// (~80 tokens of prompt in all), once with warm-prompt (the default) and once with it off, visits
// in turn: send -> first token, and the prompt tokens the worker took from its cache.
// --compare DIST: another build (a copy of dist/ from before a change), visited in turn with this
// one under the same load; both rows are printed. Each build downloads and reads its own copy of
// the model (under its own URL), so a build that stores chunks differently reads what it wrote.
// or from another script: `import { runTtftBench } from './ttft-bench.mjs'`.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBenchBrowser, table } from './bench-browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const GGUF = join(root, '.cache/bench-models/gguf');
const MODELS = [
  { name: 'demo model (1.9M, F16 folder)', path: join(root, 'models/gpt-chat-demo'), url: 'models/demo/' },
  { name: 'llama-15m shape, Q4_0 GGUF', path: join(GGUF, 'llama-15m-q4_0.gguf'), url: 'models/llama-15m-q4_0.gguf' },
  { name: 'SmolLM2-135M shape, Q4_0 GGUF', path: join(GGUF, 'smollm2-135m-q4_0.gguf'), url: 'models/smollm2-135m-q4_0.gguf' },
];
const PHASES = ['workerStart', 'manifest', 'chunkReads', 'hashing', 'readWait', 'parse', 'backend', 'weights', 'upload', 'prepare', 'total'];

/**
 * Runs the benchmark and prints a table.
 * @param {{ runs?: number, compare?: string, only?: string, typingMs?: number, log?: (line: string) => void }} [options]
 */
export async function runTtftBench({ runs = 3, compare, only, typingMs, log = console.log } = {}) {
  if (typingMs) return runTypingBench({ runs, only, typingMs, log });
  const bench = await openTtftPage({ compare, only, log });
  const { models, visit } = bench;
  const rows = [];
  try {
    for (const m of models) {
      const builds = compare ? ['compare', 'dist'] : ['dist'];
      for (const b of builds) {
        const first = await visit(m, b); // downloads into IndexedDB
        if (first.info.fromCache) log(`  ${m.name}: was already cached`);
      }
      const warm = Object.fromEntries(builds.map((b) => [b, []]));
      for (let i = 0; i < runs; i++) {
        for (const b of builds) {
          const r = await visit(m, b);
          if (!r.info.fromCache) throw new Error(`ttft-bench: ${m.name}: the warm visit did not load from the cache`);
          warm[b].push(r);
        }
      }
      for (const b of builds) {
        warm[b].sort((x, y) => x.firstTokenAt - y.firstTokenAt);
        const r = warm[b][warm[b].length >> 1];
        const model = compare ? `${m.name} (${b === 'dist' ? 'this build' : compare})` : m.name;
        rows.push({ model, MB: statSize(m.path), ...r });
        log(`  ${model}: first token ${r.firstTokenAt.toFixed(0)} ms after navigation (ready ${r.readyAt.toFixed(0)})`);
      }
    }
  } finally {
    await bench.close();
  }
  log(`\nTime to first token from the IndexedDB cache, from navigation, headless Chromium, CPU backend, real worker; median of ${runs} warm visits`);
  log(table(
    ['model', 'MB', 'first token', 'element defined', 'ready', 'ready -> token', ...PHASES],
    rows.map((r) => [
      r.model, r.MB.toFixed(1), r.firstTokenAt.toFixed(0), r.definedAt.toFixed(0), r.readyAt.toFixed(0), (r.firstTokenAt - r.readyAt).toFixed(0),
      ...PHASES.map((p) => (r.info.loadTimings?.[p] === undefined ? '-' : r.info.loadTimings[p].toFixed(0))),
    ]),
  ));
  log('ms. Phases are loadTimings of gpt-chat-ready: chunkReads and hashing are summed over chunks read side by side, beside the runtime work; readWait is what the load waited for them; weights holds readWait and upload.');
  return rows;
}

/** A system prompt of a typical site assistant: with the template and the message, ~80 tokens. */
const SYSTEM_PROMPT = 'You are the friendly assistant of a small online bookshop. Answer in two or three short sentences.';

/**
 * --typing-ms: visits with the message sent `typingMs` after ready, with warm-prompt on and off in
 * turn (cached model, same page, same load): send -> first token and the prompt's cached tokens.
 */
async function runTypingBench({ runs, only, typingMs, log }) {
  const bench = await openTtftPage({ only, log });
  const variants = [['warm-up on', ''], ['warm-up off', '&warm=off']];
  const rows = [];
  try {
    for (const m of bench.models) {
      const query = (extra) => `&typing=${typingMs}&system=${encodeURIComponent(SYSTEM_PROMPT)}${extra}`;
      await bench.visit(m, 'dist', query('')); // downloads into IndexedDB
      const seen = Object.fromEntries(variants.map(([v]) => [v, []]));
      for (let i = 0; i < runs; i++) {
        for (const [v, extra] of variants) {
          const r = await bench.visit(m, 'dist', query(extra));
          if (!r.info.fromCache) throw new Error(`ttft-bench: ${m.name}: the visit did not load from the cache`);
          seen[v].push(r);
        }
      }
      for (const [v] of variants) {
        const sorted = seen[v].sort((x, y) => x.firstTokenAt - x.sentAt - (y.firstTokenAt - y.sentAt));
        const r = sorted[sorted.length >> 1];
        rows.push({ model: m.name, variant: v, ...r });
        log(`  ${m.name}, ${v}: first token ${(r.firstTokenAt - r.sentAt).toFixed(0)} ms after the send (${r.cachedPromptTokens ?? 0} of ${r.promptTokens} prompt tokens cached)`);
      }
    }
  } finally {
    await bench.close();
  }
  log(`\nSend to first token after ${typingMs} ms of typing, model from the IndexedDB cache, headless Chromium, CPU backend, real worker; median of ${runs} visits each, in turn`);
  log(table(
    ['model', 'warm-prompt', 'send -> token', 'ready -> token', 'prompt tokens', 'cached'],
    rows.map((r) => [r.model, r.variant, (r.firstTokenAt - r.sentAt).toFixed(0), (r.firstTokenAt - r.readyAt).toFixed(0), String(r.promptTokens), String(r.cachedPromptTokens ?? 0)]),
  ));
  log(`ms; ready -> token includes the ${typingMs} ms of typing.`);
  return rows;
}

/** Serves the bench page and models and opens headless Chromium on it; `visit` loads one page. */
async function openTtftPage({ compare, only, log }) {
  if (!existsSync(join(root, 'dist/gpt-chat.js'))) throw new Error('ttft-bench: dist/gpt-chat.js is missing. HINT: run `npm run build` first.');
  const wanted = MODELS.filter((m) => !only || m.name.includes(only));
  const models = wanted.filter((m) => existsSync(m.path));
  if (models.length < wanted.length) log('ttft-bench: bench GGUF files missing, skipped (node tools/make-fixtures.mjs --bench)');
  const dir = mkdtempSync(join(tmpdir(), 'gpt-chat-ttft-bench-'));
  symlinkSync(join(root, 'dist'), join(dir, 'dist'));
  mkdirSync(join(dir, 'models'));
  symlinkSync(join(root, 'models/gpt-chat-demo'), join(dir, 'models/demo'));
  for (const m of models) if (m.url.endsWith('.gguf')) symlinkSync(m.path, join(dir, m.url));
  mkdirSync(join(dir, 'models/compare'));
  for (const m of models) symlinkSync(m.path, join(dir, m.url.replace('models/', 'models/compare/').replace(/\/$/, '')));
  mkdirSync(join(dir, 'demo'));
  if (compare) symlinkSync(resolve(compare), join(dir, 'demo/compare')); // served at /compare/
  copyFileSync(join(root, 'bench/ttft-bench.page.js'), join(dir, 'demo/ttft.js'));
  writeFileSync(join(dir, 'demo/index.html'), '<!doctype html><title>ttft bench</title><body><script type="module" src="/ttft.js"></script></body>');
  const { origin, browser, close } = await openBenchBrowser(dir);
  const page = await browser.newPage();
  page.on('pageerror', (e) => log('page error: ' + e.message));
  const visit = async (m, dist = 'dist', query = '') => {
    const url = dist === 'dist' ? m.url : m.url.replace('models/', 'models/compare/');
    await page.goto(`${origin}?dist=${dist}&model=${encodeURIComponent(origin + url)}${query}`);
    await page.waitForFunction(() => globalThis.ttft !== undefined, { timeout: 600_000, polling: 50 });
    const r = await page.evaluate(() => globalThis.ttft);
    if (r.error) throw new Error(`ttft-bench: ${m.name}: ${r.error}`);
    return r;
  };
  return {
    models,
    visit,
    close: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** MB of a file or of a folder's files. */
function statSize(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size / 2 ** 20;
  return ['model.safetensors', 'tokenizer.json', 'config.json'].reduce((n, f) => n + (existsSync(join(path, f)) ? statSync(join(path, f)).size : 0), 0) / 2 ** 20;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await runTtftBench({ runs: arg('--runs') ? Number(arg('--runs')) : undefined, compare: arg('--compare'), only: arg('--only'), typingMs: arg('--typing-ms') ? Number(arg('--typing-ms')) : undefined });
}
