// Whole-model prefill and decode on the CPU path with and without WebAssembly relaxed SIMD, in
// Node: the same build (dist/node) in child processes that alternate between `node` (plain-SIMD
// Q4_0 kernel, as Node 20 runs by default) and `node --experimental-wasm-relaxed-simd` (the
// relaxed Q4_0 kernel, as Chromium runs), so load from other jobs falls on both alike; medians.
//   npm run build && node bench/relaxed-model-bench.mjs [--rounds 7] [--file PATH] [--prompt 128] [--decode 32]
// Default file: the SmolLM2-135M Q4_0 GGUF of tools/make-fixtures.mjs --bench (Q4_0 layers, a
// Q8_0 tied head, as llama-quantize writes it).
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const file = arg('--file', root + '.cache/bench-models/gguf/smollm2-135m-q4_0.gguf');
const promptLength = Number(arg('--prompt', 128));
const decodeLength = Number(arg('--decode', 32));

if (process.argv.includes('--child')) {
  const runtime = await import(pathToFileURL(root + 'dist/node/index.js').href);
  const lm = await runtime.loadLanguageModel(runtime.nodeModelFiles(file), { backend: 'cpu' });
  const m = lm.model;
  const ids = Array.from({ length: promptLength }, (_, i) => 1 + ((i * 7919) % (lm.config.V - 1)));
  const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  m.rewind(0);
  await m.prefill(ids.slice(0, 16)); // untimed: WebAssembly tier-up
  const prefill = [];
  const decode = [];
  for (let r = 0; r < 3; r++) {
    m.rewind(0);
    let t0 = performance.now();
    let logits = await m.prefill(ids);
    prefill.push((promptLength * 1000) / (performance.now() - t0));
    let id = runtime.argmax(logits);
    t0 = performance.now();
    for (let i = 0; i < decodeLength; i++) id = runtime.argmax(await m.decode(id));
    decode.push((decodeLength * 1000) / (performance.now() - t0));
  }
  lm.dispose();
  console.log(JSON.stringify({ prefill: median(prefill), decode: median(decode) }));
} else {
  const rounds = Number(arg('--rounds', 7));
  const runs = { plain: [], relaxed: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['plain', 'relaxed'] : ['relaxed', 'plain'];
    for (const kind of order) {
      const flags = kind === 'relaxed' ? ['--experimental-wasm-relaxed-simd'] : [];
      const out = execFileSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', ...process.argv.slice(2)], { encoding: 'utf8' });
      runs[kind].push(JSON.parse(out.trim().split('\n').pop()));
    }
  }
  const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  const row = (kind) => {
    const p = runs[kind].map((x) => x.prefill);
    const d = runs[kind].map((x) => x.decode);
    return { kind, prefill: med(p), decode: med(d), prefillRange: [Math.min(...p), Math.max(...p)], decodeRange: [Math.min(...d), Math.max(...d)] };
  };
  const [a, b] = [row('plain'), row('relaxed')];
  console.log(`${file.split('/').pop()}, CPU backend, Node ${process.version}, ${promptLength}-token prefill, ${decodeLength} greedy decode steps; median of ${rounds} processes each (min-max)`);
  console.log('| Q4_0 kernel | prefill tok/s | decode tok/s |\n| --- | --- | --- |');
  for (const r of [a, b]) console.log(`| ${r.kind} | ${r.prefill.toFixed(1)} (${r.prefillRange.map((x) => x.toFixed(1)).join('-')}) | ${r.decode.toFixed(1)} (${r.decodeRange.map((x) => x.toFixed(1)).join('-')}) |`);
  console.log(`relaxed / plain: prefill ${(b.prefill / a.prefill).toFixed(2)}x, decode ${(b.decode / a.decode).toFixed(2)}x`);
}
