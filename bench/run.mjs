// `npm run bench`: every benchmark, each reporting ratios against a baseline measured in the same
// run (never absolute timings compared across runs). Pass names to run a subset:
//   node bench/run.mjs runtime cache templates quant-quality gguf kept-quant quant-matmul quant-decode ttft
const all = {
  runtime: async () => (await import('./runtime-bench.mjs')).runRuntimeBench(),
  cache: async () => (await import('./cache-bench.mjs')).runCacheBench(),
  templates: async () => (await import('./templates-bench.mjs')).runTemplatesBench(),
  'quant-quality': async () => (await import('./quant-quality.mjs')).runQuantQuality(),
  gguf: async () => (await import('./gguf-bench.mjs')).runGgufBench(),
  'kept-quant': async () => (await import('./kept-quant-bench.mjs')).runKeptQuantBench(),
  // in a Node of its own with relaxed SIMD on, so it times the relaxed Q4_0 kernel Chromium runs too
  'quant-matmul': async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', new URL('./quant-matmul-bench.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  },
  'quant-decode': async () => (await import('./quant-decode-bench.mjs')).runQuantDecodeBench(),
  ttft: async () => (await import('./ttft-bench.mjs')).runTtftBench(),
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
for (const name of wanted) {
  const run = all[name];
  if (!run) {
    console.error(`bench: unknown benchmark "${name}"; choose from ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  await run();
}
