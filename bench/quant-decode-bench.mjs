// Decode speed and memory per weight type, in Node: the same shape in F16, Q8_0, Q4_0 and Q4_K GGUF
// files (tools/make-fixtures.mjs --bench), the 15M Llama shape and the SmolLM2-135M shape, on the
// CPU path (WebAssembly SIMD) and on WebGPU (Dawn; SwiftShader on a machine without a GPU, so
// those rows prove that each type runs and what it holds in GPU buffers, never GPU speed).
// Per row: greedy decode tok/s after a one-token prompt, MB of weights a step reads, the backend's
// memory (WebAssembly memory bytes on the CPU, GPU buffer bytes on WebGPU), both as ratios to the
// F16 file of the same shape and backend in the same run, and how WebGPU's greedy ids and first
// logits compare with the CPU's for the same file (the CPU rounds activations to 8 bits for its
// quantized kernels, WebGPU keeps them f32, so random weights' near ties may split the ids).
//   npm run build && node tools/make-fixtures.mjs --bench
//   node bench/quant-decode-bench.mjs [--backends cpu,webgpu] [--shapes llama-15m,smollm2-135m]
// or from another script: `import { runQuantDecodeBench } from './quant-decode-bench.mjs'; await runQuantDecodeBench()`.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const GGUF = join(root, '.cache/bench-models/gguf');
const TYPES = ['f16', 'q8_0', 'q4_0', 'q4_k'];
// Greedy tokens timed per backend and shape, and runs (the median is reported): SwiftShader decodes
// the 135M shape at well under a token a second, so a few tokens once there (enough for ids to
// compare); on the CPU enough that a run takes about a second, three times.
const TOKENS = {
  'llama-15m': { cpu: 128, webgpu: 8 },
  'smollm2-135m': { cpu: 16, webgpu: 4 },
};
const RUNS = { cpu: 3, webgpu: 1 };
// What each file holds besides its named type (tools/hf-to-gguf.mjs quantTypeOf): the 15M files
// are `pure`; the 135M ones are typed as llama-quantize would (tied head/embedding in Q8_0, as its
// 576-element rows hold no 256-block for Q6_K; Q4_K only where rows are whole 256-blocks).
const NOTES = {
  'llama-15m-q4_k': 'Q4_K for the 768-wide down matrices, Q4_0 where rows (288) are not 256-blocks',
  'smollm2-135m-q4_0': 'embedding / tied head in Q8_0',
  'smollm2-135m-q4_k': 'Q4_K for down (1536 wide), Q4_0 for the rest (576), head Q8_0',
};

/**
 * Runs the benchmark and prints one table.
 * @param {{ backends?: ('cpu' | 'webgpu')[], shapes?: string[], log?: (line: string) => void }} [options]
 * @returns {Promise<object[]>} the rows
 */
export async function runQuantDecodeBench({ backends = ['cpu', 'webgpu'], shapes = Object.keys(TOKENS), log = console.log } = {}) {
  const runtimeUrl = pathToFileURL(join(root, 'dist/node/index.js'));
  if (!existsSync(runtimeUrl)) throw new Error('quant-decode-bench: dist/node/index.js is missing. HINT: run `npm run build` first.');
  const runtime = await import(runtimeUrl.href);
  const rows = [];
  for (const shape of shapes) {
    for (const type of TYPES) {
      const file = join(GGUF, `${shape}-${type}.gguf`);
      if (!existsSync(file)) throw new Error(`quant-decode-bench: ${file} is missing. HINT: run \`node tools/make-fixtures.mjs --bench\` first.`);
      for (const backend of backends) {
        const row = { shape, type, backend, fileMB: statSync(file).size / 1e6, ...(await decodeOne(runtime, file, backend, TOKENS[shape][backend], RUNS[backend])) };
        rows.push(row);
        log(`  ${shape} ${type} ${backend}: ${row.tokS.toFixed(2)} tok/s, ${(row.memoryBytes / 1e6).toFixed(1)} MB`);
      }
    }
  }
  log(table(rows));
  return rows;
}

async function decodeOne(runtime, file, backend, tokens, runs) {
  const { argmax } = runtime;
  const lm = await runtime.loadLanguageModel(runtime.nodeModelFiles(file), { backend });
  try {
    const m = lm.model;
    const inner = m.backend.inner; // createBackend's CheckedBackend wraps the backend
    const speeds = [];
    let ids = [];
    let logits = null;
    for (let r = 0; r < runs; r++) {
      m.rewind(0);
      logits = Float32Array.from(await m.prefill([1]));
      let id = argmax(logits);
      // one untimed step, so kernels compile (WebGPU pipelines, WebAssembly tier-up) outside the timing
      id = argmax(await m.decode(id));
      ids = [id];
      const t = performance.now();
      for (let i = 0; i < tokens; i++) ids.push((id = argmax(await m.decode(id))));
      speeds.push(tokens / ((performance.now() - t) / 1000));
    }
    const memoryBytes = backend === 'webgpu' ? inner.bytesAllocated : inner.wasmMemoryBytes;
    return { tokens, runs, tokS: speeds.sort((a, b) => a - b)[runs >> 1], ids, logits, memoryBytes, weightBytes: m.weightBytesPerToken };
  } finally {
    lm.dispose();
  }
}

function topGap(xs) {
  const [a, b] = [...xs].sort((x, y) => y - x);
  return a - b;
}

function table(rows) {
  const head = ['shape', 'type', 'backend', 'file MB', 'weights MB/token', 'tokens x runs', 'decode tok/s', 'tok/s vs F16', 'memory MB', 'memory vs F16', 'ids = CPU', 'first logits: max |GPU - CPU| (CPU top-2 gap)', 'file holds'];
  const body = rows.map((r) => {
    const f16 = rows.find((x) => x.shape === r.shape && x.backend === r.backend && x.type === 'f16');
    const cpu = rows.find((x) => x.shape === r.shape && x.type === r.type && x.backend === 'cpu');
    const gpu = r.backend !== 'cpu' && cpu;
    const agree = gpu ? `${r.ids.filter((id, i) => id === cpu.ids[i]).length}/${r.ids.length}` : '';
    // the first logits against the CPU's, in units of the CPU's gap between its top two
    const diff = gpu ? r.logits.reduce((d, v, i) => Math.max(d, Math.abs(v - cpu.logits[i])), 0) : 0;
    const gap = gpu ? topGap(cpu.logits) : 0;
    return [
      r.shape, r.type.toUpperCase(), r.backend === 'cpu' ? 'CPU (wasm)' : 'WebGPU (SwiftShader)',
      r.fileMB.toFixed(1), (r.weightBytes / 1e6).toFixed(1), `${r.tokens} x ${r.runs}`, r.tokS.toFixed(2),
      f16 ? (r.tokS / f16.tokS).toFixed(2) + 'x' : '-', (r.memoryBytes / 1e6).toFixed(1),
      f16 ? (r.memoryBytes / f16.memoryBytes).toFixed(2) + 'x' : '-', agree, gpu ? `${diff.toExponential(1)} (${gap.toExponential(1)})` : '', NOTES[`${r.shape}-${r.type}`] ?? '',
    ];
  });
  return [
    `\nDecode per weight type (Node ${process.version}, one thread): greedy tokens after a one-token prompt and one untimed step, median of the runs; memory = WebAssembly memory (CPU) or GPU buffers (WebGPU) after decoding`,
    '| ' + head.join(' | ') + ' |',
    '|' + head.map(() => '---').join('|') + '|',
    ...body.map((cells) => '| ' + cells.join(' | ') + ' |'),
  ].join('\n');
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--backends') options.backends = argv[++i].split(',');
    else if (argv[i] === '--shapes') options.shapes = argv[++i].split(',');
    else throw new Error(`quant-decode-bench: unknown option ${argv[i]}. Options: --backends cpu,webgpu --shapes llama-15m,smollm2-135m`);
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runQuantDecodeBench(parseArgs(process.argv.slice(2)));
}
