// Benchmark of the GPT runtime in Node: greedy decoding on the CPU backend and on WebGPU (Dawn;
// SwiftShader on a machine without a GPU) for the llama-15m bench models: f32, f16, and the f16
// model quantized on load to Q8_0 and Q4_0. Prints prefill and decode tok/s (median of the runs
// after a warm-up), memory (the backend's buffers: WebAssembly memory on the CPU, GPU buffers on
// WebGPU), the WebGPU / CPU ratio against the CPU baseline measured in the same run, and each
// quantized model's ratio against the f16 model on the same backend.
//   npm run build && node tools/make-fixtures.mjs --bench
//   node bench/runtime-bench.mjs [--tokens 128] [--runs 3] [--budget 20] [--backends cpu,webgpu] [model dir[@q8_0|@q4_0] ...]
// or from another script: `import { runRuntimeBench } from './runtime-bench.mjs'; await runRuntimeBench()`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `dir@q8_0` loads the folder with { quantize: 'q8_0' }. Q4_K is not among them: its 256-element
// blocks do not divide this shape's rows (C = 288), which is why llama.cpp falls back to other
// types for such tensors too.
const DEFAULT_MODELS = [
  '.cache/bench-models/llama-15m',
  '.cache/bench-models/llama-15m-f16',
  '.cache/bench-models/llama-15m-f16@q8_0',
  '.cache/bench-models/llama-15m-f16@q4_0',
];
// A short story opening (about 30 tokens with the bench models' tokenizer): prefill runs as one batch.
const PROMPT = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';

/**
 * Runs the benchmark and prints a table (one row per model and backend).
 * @param {{
 *   models?: string[],        model folders (default: the llama-15m f32 and f16 bench models)
 *   backends?: ('cpu' | 'webgpu')[],
 *   decodeTokens?: number,    greedy tokens decoded after the prompt (default 128)
 *   runs?: number,            timed runs after one warm-up; the median is reported (default 3)
 *   budgetS?: number,         no further run starts once a model and backend took this long (default
 *                             20 s), so slow backends report fewer runs and the default stays ~2 min
 *   prompt?: string,
 *   log?: (line: string) => void,
 * }} [options]
 * @returns {Promise<object[]>} the rows: model, backend, prefill and decode tok/s, memory, ratio
 */
export async function runRuntimeBench({
  models = DEFAULT_MODELS,
  backends = ['cpu', 'webgpu'],
  decodeTokens = 128,
  runs = 3,
  budgetS = 20,
  prompt = PROMPT,
  log = console.log,
} = {}) {
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
      const row = await benchOne(runtime, dir, backend, { decodeTokens, runs, budgetS, prompt, quantize });
      rows.push({ model, path, quantize, ...row });
      log(`  ${model} ${backend}: prefill ${row.prefillTokS.toFixed(1)} tok/s, decode ${row.decodeTokS.toFixed(1)} tok/s`);
    }
  }
  for (const row of rows) {
    const base = rows.find((r) => r.model === row.model && r.backend === 'cpu');
    row.decodeVsCpu = base ? row.decodeTokS / base.decodeTokS : null;
    row.prefillVsCpu = base ? row.prefillTokS / base.prefillTokS : null;
    // a quantized model against the same folder unquantized, on the same backend
    const plain = row.quantize ? rows.find((r) => r.model === row.path && r.backend === row.backend) : null;
    row.decodeVsPlain = plain ? row.decodeTokS / plain.decodeTokS : null;
  }
  log(table(rows, decodeTokens, runs));
  return rows;
}

async function benchOne(runtime, dir, backend, { decodeTokens, runs, budgetS, prompt, quantize }) {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const lm = await runtime.loadLanguageModel(runtime.nodeModelFiles(dir), { backend, quantize });
  const loadMs = performance.now() - t0;
  const after = process.memoryUsage();
  try {
    const model = lm.model;
    const ids = lm.encode(prompt);
    if (ids.length + decodeTokens > lm.contextLength) {
      throw new Error(`runtime-bench: ${ids.length} prompt + ${decodeTokens} tokens pass the context of ${lm.contextLength}. HINT: lower --tokens.`);
    }
    const once = async (n) => {
      model.rewind(0);
      const t1 = performance.now();
      let logits = await model.prefill(ids);
      const t2 = performance.now();
      const out = [];
      for (let i = 0; i < n; i++) {
        const id = argmax(logits);
        out.push(id);
        logits = await model.decode(id);
      }
      const t3 = performance.now();
      return { prefillTokS: ids.length / ((t2 - t1) / 1000), decodeTokS: n / ((t3 - t2) / 1000), out };
    };
    await once(Math.min(decodeTokens, 16)); // warm-up: pipelines, bind groups, JIT
    const timed = [];
    const start = performance.now();
    while (timed.length < runs && (timed.length === 0 || performance.now() - start < budgetS * 1000)) timed.push(await once(decodeTokens));
    // Greedy decoding is deterministic: every run must produce the same tokens.
    const first = timed[0].out.join(',');
    if (timed.some((t) => t.out.join(',') !== first)) throw new Error(`runtime-bench: ${backend} decoded different tokens in two runs of ${dir}.`);
    // createBackend's CheckedBackend wraps the backend: GPU buffers, or the CPU's WebAssembly memory
    const inner = model.backend.inner;
    const memoryBytes = backend === 'webgpu' ? inner?.bytesAllocated ?? null : inner?.wasmMemoryBytes ?? null;
    return {
      backend,
      promptTokens: ids.length,
      loadMs,
      runs: timed.length,
      prefillTokS: median(timed.map((t) => t.prefillTokS)),
      decodeTokS: median(timed.map((t) => t.decodeTokS)),
      rssMB: (after.rss - before.rss) / 2 ** 20,
      arrayBuffersMB: (after.arrayBuffers - before.arrayBuffers) / 2 ** 20,
      memoryMB: memoryBytes === null ? null : memoryBytes / 2 ** 20,
      tokens: timed[0].out,
    };
  } finally {
    lm.dispose();
  }
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

function table(rows, decodeTokens, runs) {
  const head = ['model', 'backend', 'runs', 'prefill tok/s', 'decode tok/s', 'x CPU (decode)', 'x CPU (prefill)', 'x unquantized (decode)', 'load ms', 'rss +MB', 'wasm / GPU MB'];
  const fmt = (v, d = 1) => (v === null || v === undefined ? '-' : v.toFixed(d));
  const body = rows.map((r) => [
    r.model.split('/').pop().replace('@', ' '),
    r.backend,
    String(r.runs),
    fmt(r.prefillTokS),
    fmt(r.decodeTokS),
    fmt(r.decodeVsCpu, 2),
    fmt(r.prefillVsCpu, 2),
    fmt(r.decodeVsPlain, 2),
    fmt(r.loadMs, 0),
    fmt(r.rssMB),
    fmt(r.memoryMB),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `Runtime: greedy decode of ${decodeTokens} tokens after a ${rows[0]?.promptTokens ?? '?'}-token prompt, median of up to ${runs} runs after a warm-up`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
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
    else if (a === '--prompt') options.prompt = argv[++i];
    else if (a.startsWith('--')) throw new Error(`runtime-bench: unknown option ${a}. Options: --tokens N --runs N --budget S --backends cpu,webgpu --prompt TEXT [model dir ...]`);
    else options.models.push(a);
  }
  if (options.models.length === 0) delete options.models;
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runRuntimeBench(parseArgs(process.argv.slice(2)));
}
