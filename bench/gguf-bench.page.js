// Runs in Chromium, bundled (esbuild; the runtime and wllama stay external) and driven by
// bench/gguf-bench.mjs: greedy decode of the same GGUF file by our runtime (dist/runtime.js, CPU
// backend, in the page) and by llama.cpp (@wllama/wllama, one thread, CPU, in its worker), and time
// to first token from our IndexedDB cache.
import { loadLanguageModel } from '/dist/runtime.js';
import { Wllama } from '/wllama/index.js';
import { clearCache, openCachedModel } from '../src/cache/index.ts';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function argmax(xs) {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Our decode tok/s: prefill the prompt, then `tokens` greedy steps timed; median of `runs` after a warm-up. */
globalThis.decodeOurs = async (url, prompt, tokens, runs) => {
  const t0 = performance.now();
  const lm = await loadLanguageModel(url, { backend: 'cpu' });
  const loadMs = performance.now() - t0;
  try {
    const ids = lm.encode(prompt);
    const once = async (n) => {
      lm.model.rewind(0);
      let logits = await lm.model.prefill(ids);
      const t1 = performance.now();
      const out = [];
      for (let i = 0; i < n; i++) {
        out.push(argmax(logits));
        logits = await lm.model.decode(out[i]);
      }
      return { tokS: n / ((performance.now() - t1) / 1000), out };
    };
    await once(16);
    const timed = [];
    for (let r = 0; r < runs; r++) timed.push(await once(tokens));
    return { tokS: median(timed.map((t) => t.tokS)), loadMs, promptTokens: ids.length, ids: timed[0].out };
  } finally {
    lm.dispose();
  }
};

// Random weights write byte tokens that do not form UTF-8, on which llama.cpp's server (inside
// wllama) throws while writing the reply text: they are banned. The bench models' SentencePiece
// vocabulary holds its 256 byte tokens at ids 3..258 (tools/make-fixtures.mjs, family tinyllama).
const NO_BYTE_TOKENS = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [String(3 + i), -100]));

/** llama.cpp's decode tok/s, as it times itself (timings.predicted_per_second): same prompt, same count. */
globalThis.decodeWllama = async (url, prompt, tokens, runs) => {
  const w = new Wllama({ default: '/wllama/wasm/wllama.wasm' }, { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error: console.error } });
  const t0 = performance.now();
  await w.loadModel([await (await fetch(url)).blob()], { n_threads: 1, n_gpu_layers: 0, n_ctx: 512 });
  const loadMs = performance.now() - t0;
  try {
    const once = (n) => w.createCompletion({ prompt, max_tokens: n, temperature: 0, ignore_eos: true, logit_bias: NO_BYTE_TOKENS });
    await once(16);
    const timed = [];
    for (let r = 0; r < runs; r++) timed.push(await once(tokens));
    for (const t of timed) if (t.timings.predicted_n !== tokens) throw new Error(`wllama decoded ${t.timings.predicted_n} tokens, not ${tokens}`);
    return { tokS: median(timed.map((t) => t.timings.predicted_per_second)), loadMs, promptTokens: timed[0].usage.prompt_tokens, threads: w.getNumThreads() };
  } finally {
    await w.exit();
  }
};

/**
 * Time to first token from the cache: the file is downloaded into IndexedDB first (not timed), then
 * opened from the cache, loaded, and the prompt prefilled to the first token (timed, median of runs).
 */
globalThis.ttftFromCache = async (url, prompt, runs) => {
  await clearCache();
  await openCachedModel(url);
  const times = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const files = await openCachedModel(url);
    const lm = await loadLanguageModel(files, { backend: 'cpu' });
    const first = argmax(await lm.model.prefill(lm.encode(prompt)));
    times.push(performance.now() - t0);
    if (first < 0) throw new Error('no first token');
    lm.dispose();
  }
  bytes = (await navigator.storage.estimate()).usage ?? 0;
  await clearCache();
  return { ms: median(times), storedBytes: bytes };
};

globalThis.benchReady = true;
