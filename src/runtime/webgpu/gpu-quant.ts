import { quantLayout, type QuantDType } from '../quant/quant-dtype.ts';
import q4_0 from './kernels/quant-q4-0.wgsl';
import q4_k from './kernels/quant-q4-k.wgsl';
import q6_k from './kernels/quant-q6-k.wgsl';
import q8_0 from './kernels/quant-q8-0.wgsl';

/**
 * Block-quantized weights on the GPU. Storage buffers are read a u32 at a time, and ggml's Q8_0
 * (34 bytes), Q4_0 (18) and Q6_K (210) blocks do not start on a u32 when packed back to back, so
 * each block is stored padded to a multiple of 4 bytes with its f16 scale on a u32 of its own
 * (Q4_K's 144 bytes need nothing). The bits are ggml's; only their place moves:
 *   q8_0: [d, 0, 0] [32 x i8]                 36 bytes
 *   q4_0: [d, 0, 0] [16 bytes of nibbles]      20 bytes
 *   q4_k: as ggml                             144 bytes
 *   q6_k: [ql 128] [qh 64] [scales 16] [d, 0, 0]  212 bytes
 * The padding costs 6% (q8_0), 11% (q4_0), 1% (q6_k) of GPU memory for aligned loads and a
 * kernel that needs no byte shuffling. The kernels read a weight through the `weight4` /
 * `weight1` of the type's kernels/quant-*.wgsl, prepended in place of weight-load.wgsl.
 */

/** Bytes of one block as the GPU stores it. */
export const GPU_BLOCK_BYTES: Readonly<Record<QuantDType, number>> = { q8_0: 36, q4_0: 20, q4_k: 144, q6_k: 212 };

/** The WGSL that reads each type (replaces weight-load.wgsl in front of a kernel). */
export const QUANT_WGSL: Readonly<Record<QuantDType, string>> = { q8_0, q4_0, q4_k, q6_k };

/** `bytes` (whole ggml blocks of `dtype`) laid out as the GPU stores them. */
export function padBlocks(dtype: QuantDType, bytes: Uint8Array): Uint8Array {
  const { blockBytes } = quantLayout(dtype);
  const gpuBytes = GPU_BLOCK_BYTES[dtype];
  if (gpuBytes === blockBytes) return bytes;
  const n = bytes.length / blockBytes;
  const out = new Uint8Array(n * gpuBytes);
  for (let b = 0; b < n; b++) {
    const src = bytes.subarray(b * blockBytes, (b + 1) * blockBytes);
    const dst = b * gpuBytes;
    if (dtype === 'q6_k') {
      out.set(src, dst); // d stays at byte 208, the low half of word 52; 210-211 are padding
    } else {
      out[dst] = src[0]; // d in the low half of word 0
      out[dst + 1] = src[1];
      out.set(src.subarray(2), dst + 4);
    }
  }
  return out;
}
