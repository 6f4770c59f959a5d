// The runtime's own ggml quantizer (src/runtime/quant/quantize.ts) for plain Node tools, which run
// before anything is built: esbuild bundles the TypeScript module in memory and it is imported
// from a data: URL. One quantizer for the runtime, the fixtures and the benchmarks, so a file we
// write is quantized exactly as quantize-on-load would. The bundle is written to .cache/ (a file,
// not a data: URL, so a stack trace names readable lines).

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'src/runtime/quant/quantize.ts');

/**
 * `quantizeMatrix(dtype, floats, rows, cols, what)` of src/runtime/quant/quantize.ts, or null
 * when this checkout has no quantizer yet (the quantized fixtures are then skipped).
 * @returns {Promise<((dtype: string, x: Float32Array, rows: number, cols: number, what?: string) => Uint8Array) | null>}
 */
export async function loadQuantizer() {
  if (!existsSync(ENTRY)) return null;
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [ENTRY], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent' });
  const file = join(ROOT, '.cache', `quantizer-${process.pid}-${Date.now()}.mjs`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return (await import(pathToFileURL(file).href)).quantizeMatrix;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Paths whose content decides the quantized bytes (for the fixtures' up-to-date stamp). */
export const QUANTIZER_SOURCES = ['quantize.ts', 'quant-dtype.ts', 'scale-search.ts', 'dequantize.ts']
  .map((f) => join(ROOT, 'src/runtime/quant', f));
