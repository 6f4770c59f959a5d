import matmulQ4_0Wasm from './kernels/matmul-q4-0.wat';
import matmulQ4_KWasm from './kernels/matmul-q4-k.wat';
import matmulQ6_KWasm from './kernels/matmul-q6-k.wat';
import matmulQ8_0Wasm from './kernels/matmul-q8-0.wat';
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
 */

/** out (T, O) = the quantized rows (xq, xd, xs) (T, I) @ w^T + bias (O); byte offsets, bias 0 for none. */
export type QuantMatmulKernel = (out: number, xq: number, xd: number, xs: number, w: number, bias: number, T: number, I: number, O: number) => void;

export interface QuantKernels {
  /** xq (n, 32) i16, xd (n) f32, xs (n) i32 = the n blocks of 32 floats at `inp` quantized to 8 bits. */
  quantizeRowsQ8(xq: number, xd: number, xs: number, inp: number, n: number): void;
  /** The matmul kernel of each quantized weight type. */
  matmul: Readonly<Record<QuantDType, QuantMatmulKernel>>;
}

const MODULES = [quantizeRowsQ8Wasm, matmulQ8_0Wasm, matmulQ4_0Wasm, matmulQ4_KWasm, matmulQ6_KWasm];

// compiled once per realm; every backend instantiates them over its own memory
let compiled: WebAssembly.Module[] | null = null;

/** Whether this engine validates the quantized kernels (WebAssembly SIMD, as simd-kernels.ts). */
export function quantKernelsSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && MODULES.every((bytes) => WebAssembly.validate(bytes));
  } catch {
    return false;
  }
}

/** The kernels over `memory` (synchronous: a few KB of modules, see simd-kernels.ts). */
export function instantiateQuantKernels(memory: WebAssembly.Memory): QuantKernels {
  compiled ??= MODULES.map((bytes) => new WebAssembly.Module(bytes));
  const [rows, q8_0, q4_0, q4_k, q6_k] = compiled.map((m) => new WebAssembly.Instance(m, { env: { memory } }).exports);
  return {
    quantizeRowsQ8: rows.quantizeRowsQ8 as QuantKernels['quantizeRowsQ8'],
    matmul: {
      q8_0: q8_0.matmulQ8_0 as QuantMatmulKernel,
      q4_0: q4_0.matmulQ4_0 as QuantMatmulKernel,
      q4_k: q4_k.matmulQ4_K as QuantMatmulKernel,
      q6_k: q6_k.matmulQ6_K as QuantMatmulKernel,
    },
  };
}

/**
 * The quantized input rows of a matmul, in the kernels' memory: xq (T I) i16, then xd and xs
 * (T I / 32) each. Grown to the largest T I seen, so after the first forward call of each shape
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
  kernels.quantizeRowsQ8(s.xq, s.xd, s.xs, inp.byteOffset, (T * I) / 32);
  kernels.matmul[dtype](out.byteOffset, s.xq, s.xd, s.xs, w.byteOffset, bias === null ? 0 : bias.byteOffset, T, I, O);
  return true;
}
