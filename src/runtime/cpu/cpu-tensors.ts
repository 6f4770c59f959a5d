import type { Activation, KvCache, Weight, WeightDType } from '../backend.ts';
import { dequantizeMatrix } from '../quant/dequantize.ts';
import type { QuantDType } from '../quant/quant-dtype.ts';
import { widenHalf } from './half-weights.ts';
import { F32Slot, U8Slot, type U16Slot } from './wasm-arena.ts';

// The CPU backend's weights, activations and KV cache: slots of its WebAssembly memory (or of the
// JavaScript heap, see wasm-arena.ts) with the shapes of the Backend contract.

/**
 * A weight of the CPU backend. `dtype` is the element type {@link CpuBackend.writeWeight} accepts
 * for it (the checkpoint's). Storage is float32, widened on write, except for bf16 and f16
 * matrices (rows > 1) when the SIMD kernels run: those stay 16-bit in the kernels' memory
 * (a {@link U16Slot}) and are widened as the matmul reads them, or one row at a time by embed.
 * Block-quantized weights (q8_0, q4_0, q4_k, q6_k) are always kept as ggml's blocks (a
 * {@link U8Slot}), in the kernels' memory when it has room (see quant-weights.ts).
 */
export class CpuWeight implements Weight {
  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    readonly dtype: WeightDType,
    readonly slot: F32Slot | U16Slot | U8Slot, // (rows, cols) row-major; U8Slot: rows of blocks
  ) {}

  /**
   * The elements as float32, (rows, cols) row-major. Read it afresh: the array is replaced when
   * memory grows. For a 16-bit weight this is a widened copy, made on every read: the ops never
   * use it on one (only norms' and biases' vectors, which are always f32), tests and tools may.
   * A quantized weight is dequantized the same way.
   */
  get data(): Float32Array {
    const s = this.slot;
    if (s instanceof F32Slot) return s.view;
    if (s instanceof U8Slot) return dequantizeMatrix(this.dtype as QuantDType, s.view, this.rows, this.cols);
    const out = new Float32Array(s.length);
    widenHalf(out, 0, s.view, 0, s.length, this.dtype === 'f16' ? 'f16' : 'bf16');
    return out;
  }
}

/** An activation of the CPU backend. */
export class CpuActivation implements Activation {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly slot: F32Slot, // (rows, cols) row-major
  ) {}

  /** The elements, (rows, cols) row-major. Read it afresh: the array is replaced when memory grows. */
  get data(): Float32Array {
    return this.slot.view;
  }
}

/** The KV cache of the CPU backend, with the attention scratch sized for its context length. */
export class CpuKvCache implements KvCache {
  constructor(
    readonly L: number,
    readonly S: number,
    readonly width: number,
    readonly kSlot: F32Slot, // (L, S, width) keys, width = Hkv D
    readonly vSlot: F32Slot, // (L, S, width) values
    readonly scoresSlot: F32Slot, // (S) attention weights of one query head, scratch
  ) {}

  /** Keys (L, S, width). */
  get k(): Float32Array {
    return this.kSlot.view;
  }
  /** Values (L, S, width). */
  get v(): Float32Array {
    return this.vSlot.view;
  }
  /** Scratch (S). */
  get scores(): Float32Array {
    return this.scoresSlot.view;
  }
}
