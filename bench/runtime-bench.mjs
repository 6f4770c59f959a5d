// Benchmark of the GPT runtime in Node, per model shape and backend (the CPU path, WebGPU through
// Dawn: SwiftShader on a machine without a GPU, whose figures say nothing of a real GPU's):
// load from disk (weights, then kernels prepared), time to first token after a 128-token prompt,
// prefill tok/s (128 tokens, and 1024 where the context allows), greedy decode tok/s at positions 0
// and 1024, dispatches per decode step (WebGPU), bytes of weights a step reads and the GB/s that
// implies, the backend's memory (WebAssembly memory on the CPU, GPU buffers on WebGPU). Ratios
// (1024 vs 0, backend vs CPU, a model quantized on load vs the same folder unquantized) are
// measured in the same run.
//   npm run build && node tools/make-fixtures.mjs --bench
//   node bench/runtime-bench.mjs [--tokens 32] [--runs 3] [--budget 120] [--backends cpu,webgpu] [model dir[@q8_0|@q4_0] ...]
// or from another script: `import { runRuntimeBench } from './runtime-bench.mjs'; await runRuntimeBench()`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `dir@q8_0` loads the folder with { quantize: 'q8_0' }. Q4_K is not among them: its 256-element
// blocks do not divide the 15M shape's rows (C = 288), which is why llama.cpp falls back to other
// types for such tensors too.
const DEFAULT_MODELS = [
  'models/gpt-chat-demo',
  '.cache/bench-models/llama-15m',
  '.cache/bench-models/llama-15m-f16',
  '.cache/bench-models/llama-15m-f16@q8_0',
  '.cache/bench-models/llama-15m-f16@q4_0',
  '.cache/bench-models/smollm2-135m',
  '.cache/bench-models/gpt2-124m',
];
const PROMPT = 128;
const LONG = 1024;

/**
 * Runs the benchmark and prints a table (one row per model and backend).
 * @param {{
 *   models?: string[],        model folders (default: the demo model and the bench models)
 *   backends?: ('cpu' | 'webgpu')[],
 *   decodeTokens?: number,    greedy tokens timed at each position (default 32)
 *   runs?: number,            timed runs of the short prompt and decode; the median is reported (default 3)
 *   budgetS?: number,         the 1024-token phase is skipped where the short runs predict it takes
 *                             longer than this (default 120 s: SwiftShader on the largest shape)
 *   log?: (line: string) => void,
 * }} [options]
 * @returns {Promise<object[]>} the rows
 */
export async function runRuntimeBench({ models = DEFAULT_MODELS, backends = ['cpu', 'webgpu'], decodeTokens = 32, runs = 3, budgetS = 120, log = console.log } = {}) {
  const runtimeUrl = pathToFileURL(join(root, 'dist/node/index.js'));
  if (!existsSync(runtimeUrl)) throw new Error('runtime-bench: dist/node/index.js is missing. HINT: run `npm run build` first.');
  const runtime = await import(runtimeUrl.href);
  const rows = [];
  for (const model of models) {
    const [path, quantize] = model.split('@');
    const dir = resolve(root, path);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new Error(`runtime-bench: no model in ${dir}. HINT: run \`node tools/make-fixtures.mjs --bench\` first.`);
    }
    for (const backend of backends) {
      const row = { model: model.split('/').pop(), path: path.split('/').pop(), quantize, ...(await benchOne(runtime, dir, backend, { decodeTokens, runs, budgetS, quantize })) };
      rows.push(row);
      log(`  ${row.model} ${backend}: ttft ${fmt(row.ttftMs, 0)} ms, prefill ${fmt(row.prefillTokS)} tok/s, decode ${fmt(row.decode0TokS)} tok/s at 0, ${fmt(row.decodeLongTokS)} at ${LONG}${row.note ? ` (${row.note})` : ''}`);
    }
  }
  log(table(rows, decodeTokens, runs));
  return rows;
}

async function benchOne(runtime, dir, backend, { decodeTokens, runs, budgetS, quantize }) {
  const t0 = performance.now();
  const lm = await runtime.loadLanguageModel(runtime.nodeModelFiles(dir), { backend, ...(quantize ? { quantize } : {}) });
  const loadMs = performance.now() - t0;
  try {
    const m = lm.model;
    const inner = m.backend.inner; // createBackend's CheckedBackend wraps the backend
    const gpu = backend === 'webgpu' ? inner : null;
    const memoryBytes = backend === 'webgpu' ? inner?.bytesAllocated ?? null : inner?.wasmMemoryBytes ?? null;
    const V = lm.config.V;
    const S = m.contextLength;
    const promptLength = Math.min(PROMPT, S - decodeTokens - 1);
    const prompt = seededIds(promptLength, V, 1);

    // the first token after load, as a visitor waits for it
    let t = performance.now();
    argmax(await m.prefill(prompt));
    const ttftMs = performance.now() - t;

    const prefills = [];
    for (let r = 0; r < runs; r++) {
      m.rewind(0);
      t = performance.now();
      await m.prefill(prompt);
      prefills.push(promptLength / ((performance.now() - t) / 1000));
    }

    // decode from position 0 (a one-token prompt), greedy
    const decodes = [];
    let dispatches = null;
    for (let r = 0; r < runs; r++) {
      m.rewind(0);
      const first = argmax(await m.prefill([prompt[0]]));
      const before = gpu?.dispatchCount;
      decodes.push(await decodeTokS(m, first, decodeTokens));
      if (gpu) dispatches = (gpu.dispatchCount - before) / decodeTokens;
    }
    const decode0TokS = median(decodes);

    // decode from position 1024, after prefilling 1024 tokens
    let prefillLongTokS = null;
    let decodeLongTokS = null;
    let note = '';
    // A model of 1024 positions (GPT-2) is measured as deep as it goes: its last decodeTokens.
    const long = Math.min(LONG, S - decodeTokens - 1);
    const estimateS = long / median(prefills) + decodeTokens / decode0TokS;
    if (long < LONG / 2) note = `context ${S}`;
    else if (estimateS > budgetS) note = `${long}-token phase skipped: ~${estimateS.toFixed(0)} s`;
    else {
      if (long < LONG) note = `long phase at ${long} (context ${S})`;
      m.rewind(0);
      t = performance.now();
      const logits = await m.prefill(seededIds(long, V, 2));
      prefillLongTokS = long / ((performance.now() - t) / 1000);
      decodeLongTokS = await decodeTokS(m, argmax(logits), decodeTokens);
    }
    const weightBytes = m.weightBytesPerToken;
    return {
      backend,
      loadMs,
      ttftMs,
      prefillTokS: median(prefills),
      prefillLongTokS,
      decode0TokS,
      decodeLongTokS,
      dispatches,
      weightMB: weightBytes / 1e6,
      gbPerS: (weightBytes * decode0TokS) / 1e9,
      memoryMB: memoryBytes === null ? null : memoryBytes / 2 ** 20,
      note,
    };
  } finally {
    lm.dispose();
  }
}

async function decodeTokS(m, id, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) id = argmax(await m.decode(id));
  return n / ((performance.now() - t) / 1000);
}

// Token ids spread over the vocabulary, the same every run.
function seededIds(n, V, seed) {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % V;
  });
}

function argmax(xs) {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v, d = 1) {
  return v === null || v === undefined ? '-' : v.toFixed(d);
}

function table(rows, decodeTokens, runs) {
  const head = ['model', 'backend', 'load ms', 'TTFT ms', 'prefill tok/s', `prefill ${LONG}`, 'decode @0', `decode @${LONG}`, `@${LONG}/@0`, 'dispatches', 'weights MB/tok', 'GB/s @0', 'x CPU @0', 'x unquantized', 'wasm / GPU MB'];
  const body = rows.map((r) => {
    const cpu = rows.find((c) => c.model === r.model && c.backend === 'cpu');
    const plain = r.quantize ? rows.find((c) => c.model === r.path && c.backend === r.backend) : null;
    return [
      r.model,
      r.backend,
      fmt(r.loadMs, 0),
      fmt(r.ttftMs, 0),
      fmt(r.prefillTokS),
      fmt(r.prefillLongTokS),
      fmt(r.decode0TokS),
      fmt(r.decodeLongTokS),
      r.decodeLongTokS === null ? '-' : fmt(r.decodeLongTokS / r.decode0TokS, 2),
      fmt(r.dispatches, 0),
      fmt(r.weightMB),
      fmt(r.gbPerS, 2),
      cpu ? fmt(r.decode0TokS / cpu.decode0TokS, 2) : '-',
      plain ? fmt(r.decode0TokS / plain.decode0TokS, 2) : '-',
      fmt(r.memoryMB),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.model} ${r.backend}: ${r.note}`);
  return [
    `Runtime: TTFT = first prefill of a ${PROMPT}-token prompt after load; decode = ${decodeTokens} greedy tokens; median of ${runs} runs (the ${LONG} phase: one run)`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    ...(notes.length ? [`notes on the ${LONG} phase:`, ...notes] : []),
  ].join('\n');
}

function parseArgs(argv) {
  const options = { models: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tokens') options.decodeTokens = Number(argv[++i]);
    else if (a === '--runs') options.runs = Number(argv[++i]);
    else if (a === '--budget') options.budgetS = Number(argv[++i]);
    else if (a === '--backends') options.backends = argv[++i].split(',');
    else if (a.startsWith('--')) throw new Error(`runtime-bench: unknown option ${a}. Options: --tokens N --runs N --budget S --backends cpu,webgpu [model dir[@q8_0|@q4_0] ...]`);
    else options.models.push(a);
  }
  if (options.models.length === 0) delete options.models;
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runRuntimeBench(parseArgs(process.argv.slice(2)));
}
