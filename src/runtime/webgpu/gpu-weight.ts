import type { FloatDType, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import { DTYPE_BYTES, decodeToF32 } from '../dtype.ts';
import { isQuantDType, quantLayout, type QuantDType } from '../quant/quant-dtype.ts';
import { GPU_BLOCK_BYTES, padBlocks } from './gpu-quant.ts';

/** How a float weight's elements sit in GPU memory; a kernel's `DTYPE` override is this code. */
export const GPU_DTYPE_CODE: Readonly<Record<FloatDType, number>> = { f32: 0, f16: 1, bf16: 2 };

/** A run of whole rows of a weight in one GPU buffer. */
export interface WeightPart {
  readonly buffer: GPUBuffer; // (rows, cols) of gpuDtype, 16-bit types two per u32
  readonly row0: number; // first row of the weight held here
  readonly rows: number;
}

/**
 * A weight on the GPU. Matrices keep their checkpoint dtype (f16 / bf16 stay 16-bit, two per u32,
 * unpacked in the shader; quantized ones stay ggml blocks, padded to whole u32s by gpu-quant.ts),
 * split by rows into parts that each fit one storage binding.
 * Vectors (rows = 1: norm weights, biases) are widened to f32 on the CPU at write time: they are
 * tiny, and it lets the norm and bias code read plain `array<f32>` instead of carrying a dtype
 * switch for every extra binding.
 */
export class GpuWeight implements Weight {
  /** Storage type in GPU memory: `dtype` for matrices, always f32 for vectors. */
  readonly gpuDtype: WeightDType;
  readonly parts: readonly WeightPart[];
  // The halves written so far of u32 words that a 16-bit write only half covered, by
  // "part:word", so the write of the other half can complete the word (see write16).
  private readonly edges = new Map<string, { lo: number; hi: number }>();

  constructor(
    device: GPUDevice,
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    readonly dtype: WeightDType,
    maxBindingBytes: number,
  ) {
    this.gpuDtype = rows === 1 && !isQuantDType(dtype) ? 'f32' : dtype;
    const rowBytes = this.rowBytes;
    // Parts are rounded up to 16 bytes (below), so fit them in the limit rounded down to 16.
    const rowsPerPart = Math.floor((Math.floor(maxBindingBytes / 16) * 16) / rowBytes);
    if (rowsPerPart < 1) {
      throw new GptError(
        'bad-tensor-shape',
        `Weight "${name}": one row of ${cols} ${this.gpuDtype} elements (${rowBytes} bytes) exceeds the GPU's ` +
          `largest storage binding (${maxBindingBytes} bytes). Hint: this model is too large for this GPU; use the CPU engine.`,
      );
    }
    const parts: WeightPart[] = [];
    for (let row0 = 0; row0 < rows; row0 += rowsPerPart) {
      const n = Math.min(rowsPerPart, rows - row0);
      const buffer = device.createBuffer({
        label: parts.length === 0 && n === rows ? name : `${name} rows ${row0}..${row0 + n - 1}`,
        // Rounded to 16 bytes: kernels read weights as vec2<u32> and bindings must hold whole elements.
        size: roundUp(n * rowBytes, 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      parts.push({ buffer, row0, rows: n });
    }
    this.parts = parts;
  }

  /**
   * Copies `bytes` (whole little-endian `dtype` elements, within the weight: the Backend contract
   * checked that) to elements `offset ..` of the weight.
   * Any element offset and length work, in any order; 16-bit writes that start or end halfway
   * through a u32 cost one extra 4-byte write per ragged end (never the case for whole rows of
   * an even width).
   */
  write(queue: GPUQueue, offset: number, bytes: Uint8Array): void {
    if (isQuantDType(this.dtype)) {
      this.writeBlocks(queue, this.dtype, offset, bytes);
      return;
    }
    const n = bytes.length / DTYPE_BYTES[this.dtype];
    if (this.gpuDtype === 'f32' && this.dtype !== 'f32') {
      // A vector: widen to f32 here (see the class comment); f32 writes are always aligned.
      const wide = new Float32Array(n);
      decodeToF32(wide, 0, bytes, this.dtype as FloatDType, `writeWeight "${this.name}"`);
      this.writeBytes(queue, offset, new Uint8Array(wide.buffer));
    } else {
      this.writeBytes(queue, offset, bytes);
    }
  }

  /** Bytes of one row as stored on the GPU. */
  private get rowBytes(): number {
    const t = this.gpuDtype;
    if (isQuantDType(t)) return (this.cols / quantLayout(t).blockElements) * GPU_BLOCK_BYTES[t];
    return this.cols * DTYPE_BYTES[t];
  }

  // Whole ggml blocks from element `offset` (which starts a block; the Backend contract checked
  // both), padded as the GPU stores them: every block starts on a u32, so no write is ragged.
  private writeBlocks(queue: GPUQueue, dtype: QuantDType, offset: number, bytes: Uint8Array): void {
    const padded = padBlocks(dtype, bytes);
    const { blockElements } = quantLayout(dtype);
    const gpuBlock = GPU_BLOCK_BYTES[dtype];
    const perRow = this.cols / blockElements;
    const first = offset / blockElements;
    const n = padded.length / gpuBlock;
    for (const part of this.parts) {
      const lo = Math.max(first, part.row0 * perRow);
      const hi = Math.min(first + n, (part.row0 + part.rows) * perRow);
      if (lo >= hi) continue;
      queue.writeBuffer(part.buffer, (lo - part.row0 * perRow) * gpuBlock, padded.subarray((lo - first) * gpuBlock, (hi - first) * gpuBlock));
    }
  }

  private writeBytes(queue: GPUQueue, offset: number, bytes: Uint8Array): void {
    const elemBytes = DTYPE_BYTES[this.gpuDtype as FloatDType];
    const n = bytes.length / elemBytes;
    for (let p = 0; p < this.parts.length; p++) {
      const part = this.parts[p];
      const partStart = part.row0 * this.cols;
      const partEnd = partStart + part.rows * this.cols;
      const lo = Math.max(offset, partStart);
      const hi = Math.min(offset + n, partEnd);
      if (lo >= hi) continue;
      const slice = bytes.subarray((lo - offset) * elemBytes, (hi - offset) * elemBytes);
      if (elemBytes === 4) queue.writeBuffer(part.buffer, (lo - partStart) * 4, slice);
      else this.write16(queue, p, lo - partStart, slice);
    }
  }

  // 16-bit elements [e0, e0 + n) of part p. queue.writeBuffer needs 4-byte offsets and sizes, so a
  // write that starts or ends halfway through a u32 writes that word whole, with the other half
  // taken from `edges` when an earlier write supplied it (zero until then). Either order works:
  // safetensors stores k_proj before q_proj, and fused weights are written part by part.
  private write16(queue: GPUQueue, p: number, e0: number, bytes: Uint8Array): void {
    const n = bytes.length / 2;
    const buffer = this.parts[p].buffer;
    const half = (i: number) => bytes[2 * i] | (bytes[2 * i + 1] << 8);
    let first = 0;
    let last = n; // elements [first, last) of the write go in whole words
    if (e0 % 2 === 1) {
      this.writeEdge(queue, p, (e0 - 1) / 2, 'hi', half(0));
      first = 1;
    }
    if ((e0 + n) % 2 === 1 && last > first) {
      this.writeEdge(queue, p, (e0 + n - 1) / 2, 'lo', half(n - 1));
      last = n - 1;
    }
    if (last > first) queue.writeBuffer(buffer, (e0 + first) * 2, bytes.subarray(first * 2, last * 2));
  }

  private writeEdge(queue: GPUQueue, p: number, word: number, side: 'lo' | 'hi', value: number): void {
    const key = `${p}:${word}`;
    const edge = this.edges.get(key) ?? { lo: 0, hi: 0 };
    edge[side] = value;
    this.edges.set(key, edge);
    queue.writeBuffer(this.parts[p].buffer, word * 4, new Uint32Array([edge.lo | (edge.hi << 16)]));
  }

  destroy(): void {
    for (const part of this.parts) part.buffer.destroy();
  }
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
