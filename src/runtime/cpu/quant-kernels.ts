import matmulQ4_0RelaxedWasm from './kernels/matmul-q4-0-relaxed.wat';
import matmulQ4_0Wasm from './kernels/matmul-q4-0.wat';
import matmulQ4_KWasm from './kernels/matmul-q4-k.wat';
import matmulQ6_KWasm from './kernels/matmul-q6-k.wat';
import matmulQ8_0Wasm from './kernels/matmul-q8-0.wat';
import quantizeRowsQ8I8Wasm from './kernels/quantize-rows-q8-i8.wat';
import quantizeRowsQ8Wasm from './kernels/quantize-rows-q8.wat';
import type { QuantDType } from '../quant/quant-dtype.ts';
import type { F32Slot, U8Slot, WasmArena } from './wasm-arena.ts';

/**
 * The WebAssembly SIMD kernels for block-quantized weights (kernels/matmul-q*.wat), bound to one
 * arena's memory. Weights stay in ggml's block layout in that memory; each matmul first quantizes
 * its T input rows per block of 32 to 8 bits (kernels/quantize-rows-q8.wat) and then runs integer
 * dot products, which measured ~2x faster than widening the weights to f32 (see
 * kernels/matmul-q8-0.wat). The reference they are tested against is matmulForward over the
 * dequantized weights (quant-weights.ts).
 *
 * Where the engine has WebAssembly relaxed SIMD (Chrome and Edge 114+, Node only behind
 * --experimental-wasm-relaxed-simd), Q4_0 takes kernels/matmul-q4-0-relaxed.wat instead, with its
 * activations quantized to i8 (kernels/quantize-rows-q8-i8.wat): the same output bits, ~1.4x
 * faster (see that file); elsewhere the plain-SIMD kernels run.
 */

/** out (T, O) = the quantized rows (xq, xd, xs) (T, I) @ w^T + bias (O); byte offsets, bias 0 for none. */
export type QuantMatmulKernel = (out: number, xq: number, xd: number, xs: number, w: number, bias: number, T: number, I: number, O: number) => void;

/** xq, xd (n) f32, xs (n) i32 = the n blocks of 32 floats at `inp` quantized to 8 bits; xq's layout is the quantizer's. */
export type QuantizeRowsKernel = (xq: number, xd: number, xs: number, inp: number, n: number) => void;

export interface QuantKernels {
  /** Per quantized weight type, the activation quantizer its kernel reads (the layouts differ) and the kernel. */
  matmul: Readonly<Record<QuantDType, { quantizeRows: QuantizeRowsKernel; matmul: QuantMatmulKernel }>>;
}

const MODULES = [quantizeRowsQ8Wasm, matmulQ8_0Wasm, matmulQ4_0Wasm, matmulQ4_KWasm, matmulQ6_KWasm];
const RELAXED_MODULES = [quantizeRowsQ8I8Wasm, matmulQ4_0RelaxedWasm];

// compiled once per realm; every backend instantiates them over its own memory
let compiled: WebAssembly.Module[] | null = null;
let compiledRelaxed: WebAssembly.Module[] | null = null;

/** Whether this engine validates the quantized kernels (WebAssembly SIMD, as simd-kernels.ts). */
export function quantKernelsSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && MODULES.every((bytes) => WebAssembly.validate(bytes));
  } catch {
    return false;
  }
}

/**
 * Whether this engine validates the relaxed-SIMD kernels (i16x8.relaxed_dot_i8x16_i7x16_s): the
 * modules themselves are the probe, as for {@link quantKernelsSupported}.
 */
export function relaxedQuantKernelsSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && RELAXED_MODULES.every((bytes) => WebAssembly.validate(bytes));
  } catch {
    return false;
  }
}

/**
 * The kernels over `memory` (synchronous: a few KB of modules, see simd-kernels.ts). `relaxed`
 * (default: where the engine has it) takes the relaxed-SIMD Q4_0 kernel; false keeps the
 * plain-SIMD one, which gives the same bits (the tests compare the two).
 */
export function instantiateQuantKernels(memory: WebAssembly.Memory, relaxed = relaxedQuantKernelsSupported()): QuantKernels {
  const instance = (m: WebAssembly.Module) => new WebAssembly.Instance(m, { env: { memory } }).exports;
  compiled ??= MODULES.map((bytes) => new WebAssembly.Module(bytes));
  const [rows, q8_0, q4_0, q4_k, q6_k] = compiled.map(instance);
  const quantizeRows = rows.quantizeRowsQ8 as QuantizeRowsKernel;
  const kernel = (matmul: WebAssembly.ExportValue) => ({ quantizeRows, matmul: matmul as QuantMatmulKernel });
  const kernels = { q8_0: kernel(q8_0.matmulQ8_0), q4_0: kernel(q4_0.matmulQ4_0), q4_k: kernel(q4_k.matmulQ4_K), q6_k: kernel(q6_k.matmulQ6_K) };
  if (relaxed) {
    compiledRelaxed ??= RELAXED_MODULES.map((bytes) => new WebAssembly.Module(bytes));
    const [rowsI8, q4_0Relaxed] = compiledRelaxed.map(instance);
    kernels.q4_0 = { quantizeRows: rowsI8.quantizeRowsQ8i8 as QuantizeRowsKernel, matmul: q4_0Relaxed.matmulQ4_0 as QuantMatmulKernel };
  }
  return { matmul: kernels };
}

/**
 * The quantized input rows of a matmul, in the kernels' memory: xq (T I) i16 (or i8, in the first
 * half), then xd and xs (T I / 32) each. Grown to the largest T I seen, so after the first forward call of each shape
 * a matmul allocates nothing.
 */
export class QuantActivationScratch {
  private slot: U8Slot | null = null;
  private capacity = 0; // elements (T I) the slot holds

  constructor(private readonly arena: WasmArena) {}

  /** Byte offsets of xq, xd, xs for `n` elements (a multiple of 32), or null when memory is full. */
  reserve(n: number): { xq: number; xd: number; xs: number } | null {
    if (n > this.capacity) {
      // 2 bytes a quant, 4 + 4 bytes a block of 32; 16-byte aligned parts (n is a multiple of 32)
      const slot = this.arena.allocBytes(n * 2 + (n / 32) * 8 + 16);
      if (slot === null) return null;
      this.slot = slot;
      this.capacity = n;
    }
    const xq = this.slot!.byteOffset;
    const xd = xq + this.capacity * 2;
    return { xq, xd, xs: xd + (this.capacity / 32) * 4 };
  }
}

/**
 * out (T, O) = inp (T, I) @ w^T + bias for a quantized w (O, I): quantizes the T input rows into
 * `scratch`, then runs the type's kernel. Returns false (and computes nothing) when the scratch
 * cannot grow; the caller then takes the TS path.
 */
export function matmulQuantSimd(
  kernels: QuantKernels,
  scratch: QuantActivationScratch,
  out: F32Slot, // (T, O)
  inp: F32Slot, // (T, I)
  w: U8Slot, // (O, I) as dtype blocks
  dtype: QuantDType,
  bias: F32Slot | null, // (O)
  T: number,
  I: number,
  O: number,
): boolean {
  const s = scratch.reserve(T * I);
  if (s === null) return false;
  const k = kernels.matmul[dtype];
  k.quantizeRows(s.xq, s.xd, s.xs, inp.byteOffset, (T * I) / 32);
  k.matmul(out.byteOffset, s.xq, s.xd, s.xs, w.byteOffset, bias === null ? 0 : bias.byteOffset, T, I, O);
  return true;
}
