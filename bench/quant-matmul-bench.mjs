// The CPU matmul kernels alone, for decode (T = 1) and one prefill chunk (T = 64), in one Node process: f32 (matmul.wat) against
// Q8_0 and Q4_0 (matmul-q8-0.wat, matmul-q4-0.wat, activation quantization included as the backend
// runs it), on single matrices and on the sweep of distinct matrices one decode step reads (every
// layer's, then the head), so caches hold what they would hold in a real step. Ratios against f32
// in the same run; kernels take turns round by round so load from other jobs falls on all alike.
//   node bench/quant-matmul-bench.mjs [--rounds 15] [--best] [--before REF] [--only TEXT]
// --best reports the fastest round instead of the median (steadier when other jobs share the cores).
// Under an engine with WebAssembly relaxed SIMD (node --experimental-wasm-relaxed-simd) it adds
// "q4_0 relaxed" (matmul-q4-0-relaxed.wat with its i8 activations), the kernel Chromium runs.
// --before REF adds the Q8_0 and Q4_0 kernels of git revision REF as "q8_0 @REF" and "q4_0 @REF",
// for before/after. --only times just the cases whose name contains TEXT.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { loadQuantizer } from '../tools/ts-quantizer.mjs';
import { watToWasm } from '../tools/wat-plugin.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const KERNELS = 'src/runtime/cpu/kernels/';
const BLOCK_BYTES = { q8_0: 34, q4_0: 18 };

// 15M Llama (dim 288, hidden 768, 6 layers, vocab 32000) and SmolLM2-135M (576, 1536, 30 layers, 49152)
const SHAPES = {
  'llama-15m': { C: 288, F: 768, Q: 288, K: 288, L: 6, V: 32000 },
  'smollm2-135m': { C: 576, F: 1536, Q: 576, K: 192, L: 30, V: 49152 },
};
/** The matrices of one decode step as (O, I): per layer fused qkv, wo, fused gate+up, down; then the head. */
function stepMatrices({ C, F, Q, K, L, V }, layers = L) {
  const m = [];
  for (let l = 0; l < layers; l++) m.push([Q + 2 * K, C], [C, Q], [2 * F, C], [C, F]);
  m.push([V, C]);
  return m;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Runs the bench and prints its tables. */
export async function runQuantMatmulBench({ rounds = Number(arg('--rounds', 15)), before = arg('--before'), best = process.argv.includes('--best'), log = console.log } = {}) {
  const wabt = await wabtInit();
  const wat = (file, text = readFileSync(root + KERNELS + file, 'utf8')) => new WebAssembly.Module(watToWasm(wabt, file, text));
  const modules = { f32: wat('matmul.wat'), q8: wat('quantize-rows-q8.wat'), q8_0: wat('matmul-q8-0.wat'), q4_0: wat('matmul-q4-0.wat') };
  const relaxedBytes = watToWasm(wabt, 'matmul-q4-0-relaxed.wat', readFileSync(root + KERNELS + 'matmul-q4-0-relaxed.wat', 'utf8'));
  const relaxed = WebAssembly.validate(relaxedBytes);
  if (relaxed) Object.assign(modules, { q8i8: wat('quantize-rows-q8-i8.wat'), q4_0_relaxed: new WebAssembly.Module(relaxedBytes) });
  const old = (file) => wat(file, execFileSync('git', ['show', `${before}:${KERNELS}${file}`], { cwd: root, encoding: 'utf8' }));
  if (before) Object.assign(modules, { q8_0_before: old('matmul-q8-0.wat'), q4_0_before: old('matmul-q4-0.wat') });
  const quantize = await loadQuantizer();

  // one memory for everything, a bump allocator in it
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
  let top = 64;
  const alloc = (bytes) => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return at;
  };
  const inst = (m) => new WebAssembly.Instance(m, { env: { memory } }).exports;
  const f32 = inst(modules.f32);
  const rows = inst(modules.q8);
  const quant = { q8_0: inst(modules.q8_0).matmulQ8_0, q4_0: inst(modules.q4_0).matmulQ4_0 };
  const rowsI8 = relaxed ? inst(modules.q8i8) : null;
  if (relaxed) quant.q4_0_relaxed = inst(modules.q4_0_relaxed).matmulQ4_0;
  if (before) Object.assign(quant, { q8_0_before: inst(modules.q8_0_before).matmulQ8_0, q4_0_before: inst(modules.q4_0_before).matmulQ4_0 });
  const kinds = ['f32', 'q8_0', 'q4_0', ...(relaxed ? ['q4_0_relaxed'] : []), ...(before ? ['q8_0_before', 'q4_0_before'] : [])];
  const label = (k) => k.replace(/_before$/, ` @${before}`).replace(/_relaxed$/, ' relaxed');
  const dtypeOf = (k) => k.replace(/_before$|_relaxed$/, '');

  let seed = 1;
  const random = (n) => {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      x[i] = (seed / 2 ** 32 - 0.5) * 0.2;
    }
    return x;
  };
  // up to a prefill chunk of 64 tokens (the runtime's default prefillChunk) of up to 1536 inputs
  const maxT = 64;
  const maxI = 1536;
  const inp = alloc(maxT * maxI * 4);
  new Float32Array(memory.buffer, inp, maxT * maxI).set(random(maxT * maxI));
  const xq = alloc(maxT * maxI * 2);
  const xd = alloc(((maxT * maxI) / 32) * 4);
  const xs = alloc(((maxT * maxI) / 32) * 4);
  const out = alloc(Math.max(49152, maxT * 3072) * 4);

  /** Every kernel's copy of one (O, I) matrix: byte offsets by kind. */
  const matrix = (O, I) => {
    const w = random(O * I);
    const at = { f32: alloc(O * I * 4) };
    new Float32Array(memory.buffer, at.f32, O * I).set(w);
    for (const t of ['q8_0', 'q4_0']) {
      const bytes = quantize(t, w, O, I, 'bench');
      at[t] = alloc(bytes.length);
      new Uint8Array(memory.buffer, at[t], bytes.length).set(bytes);
      at[`${t}_before`] = at[t];
      at[`${t}_relaxed`] = at[t];
    }
    return { O, I, at };
  };
  const call = (kind, m, T = 1) => {
    if (kind === 'f32') return f32.matmul(out, inp, m.at.f32, 0, T, m.I, m.O);
    (kind === 'q4_0_relaxed' ? rowsI8.quantizeRowsQ8i8 : rows.quantizeRowsQ8)(xq, xd, xs, inp, (T * m.I) / 32);
    quant[kind](out, xq, xd, xs, m.at[kind], 0, T, m.I, m.O);
  };

  const only = arg('--only');
  const cases = [
    { name: 'llama-15m head 32000 x 288', set: [matrix(32000, 288)] },
    { name: 'smollm2-135m down 576 x 1536', set: [matrix(576, 1536)] },
    { name: 'smollm2-135m gate+up 3072 x 576', set: [matrix(3072, 576)] },
    { name: 'llama-15m decode step (6 layers + head)', set: stepMatrices(SHAPES['llama-15m']).map(([O, I]) => matrix(O, I)) },
    { name: 'smollm2-135m decode step, 8 of 30 layers + head', set: stepMatrices(SHAPES['smollm2-135m'], 8).map(([O, I]) => matrix(O, I)) },
    // prefill: every layer's matrices for a chunk of 64 tokens (the head runs for the last token only)
    { name: 'smollm2-135m prefill, T = 64, 2 of 30 layers', T: 64, set: stepMatrices(SHAPES['smollm2-135m'], 2).slice(0, -1).map(([O, I]) => matrix(O, I)) },
  ];

  // the same outputs from each kernel and its earlier version (or relaxed one): they must compute the same thing
  for (const [t, other] of [...(before ? [['q8_0', 'q8_0_before'], ['q4_0', 'q4_0_before']] : []), ...(relaxed ? [['q4_0', 'q4_0_relaxed']] : [])]) {
    for (const T of [1, maxT]) {
      const m = cases[1].set[0];
      call(t, m, T);
      const a = Float32Array.from(new Float32Array(memory.buffer, out, T * m.O));
      call(other, m, T);
      const b = new Float32Array(memory.buffer, out, T * m.O);
      const diff = a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i])), 0);
      log(`${t} vs ${label(other)}, T = ${T}: max |difference| ${diff.toExponential(2)} over ${T * m.O} outputs`);
    }
  }

  const results = [];
  for (const c of cases.filter((c) => !only || c.name.includes(only))) {
    const mbytes = (k) => c.set.reduce((n, m) => n + (k === 'f32' ? m.O * m.I * 4 : (m.O * m.I * BLOCK_BYTES[dtypeOf(k)]) / 32), 0) / 1e6;
    // repetitions so one timing takes ~5 ms of f32
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) for (const m of c.set) call('f32', m, c.T);
      if (performance.now() - t0 > 5) break;
      reps *= 2;
    }
    const times = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let round = 0; round < rounds; round++) {
      for (const k of kinds) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) for (const m of c.set) call(k, m, c.T);
        times[k].push((performance.now() - t0) / reps);
      }
    }
    const median = (a) => a.sort((x, y) => x - y)[best ? 0 : a.length >> 1];
    const row = { case: c.name, ms: Object.fromEntries(kinds.map((k) => [k, median(times[k])])), MB: Object.fromEntries(kinds.map((k) => [k, mbytes(k)])) };
    results.push(row);
  }

  log(`\nCPU matmul kernels, T = 1 unless the case says, Node ${process.version}, one thread, ${best ? 'best' : 'median'} of ${rounds} rounds (ms per call or step; x = speed vs f32)`);
  const olds = before ? ['q8_0', 'q4_0'] : [];
  const head = ['case', ...kinds.map((k) => `${label(k)} ms (MB)`), ...kinds.filter((k) => k !== 'f32').map((k) => `${label(k)} vs f32`), 'q4_0 vs q8_0', ...(relaxed ? ['q4_0 relaxed vs q4_0'] : []), ...olds.map((t) => `${t} vs @${before}`)];
  const body = results.map((r) => [
    r.case,
    ...kinds.map((k) => `${r.ms[k].toFixed(3)} (${r.MB[k].toFixed(1)})`),
    ...kinds.filter((k) => k !== 'f32').map((k) => (r.ms.f32 / r.ms[k]).toFixed(2) + 'x'),
    (r.ms.q8_0 / r.ms.q4_0).toFixed(2) + 'x',
    ...(relaxed ? [(r.ms.q4_0 / r.ms.q4_0_relaxed).toFixed(2) + 'x'] : []),
    ...olds.map((t) => (r.ms[`${t}_before`] / r.ms[t]).toFixed(2) + 'x'),
  ]);
  log([head, head.map(() => '---'), ...body].map((cells) => '| ' + cells.join(' | ') + ' |').join('\n'));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await runQuantMatmulBench();
