/**
 * The ggml tensor types we read, as llama.cpp lays them out (ggml/src/ggml-common.h): the numbers
 * GGUF stores in a tensor's `type` field, and how many elements and bytes make one block. A row of
 * a quantized matrix is a whole number of blocks; every block has its own scale(s).
 *
 * - Q8_0: 32 elements, f16 scale d + 32 x i8 q; x = d * q.
 * - Q4_0: 32 elements, f16 scale d + 16 bytes of 4-bit q (low nibbles are elements 0..15, high
 *   nibbles 16..31); x = d * (q - 8).
 * - Q4_K: 256 elements in 8 sub-blocks of 32: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales
 *   and mins, 128 bytes of 4-bit q; x = d * sc * q - dmin * m.
 * - Q6_K: 256 elements in 16 sub-blocks of 16: 128 bytes of low 4 bits, 64 bytes of high 2 bits,
 *   16 x i8 sub-block scales, f16 d; x = d * sc * (q - 32).
 */

/** ggml type ids (enum ggml_type) of the types we read. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
  Q6_K: 14,
  BF16: 30,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Lower-case names as the rest of gpt-chat spells weight types. */
export type GgmlTypeName = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k';

/** Elements per block and bytes per block of one type (a plain type is a block of one element). */
export interface GgmlBlockLayout {
  readonly name: GgmlTypeName;
  readonly blockElements: number;
  readonly blockBytes: number;
}

/** Block layouts by ggml type id. */
export const GGML_LAYOUTS: ReadonlyMap<number, GgmlBlockLayout> = new Map<number, GgmlBlockLayout>([
  [GgmlType.F32, { name: 'f32', blockElements: 1, blockBytes: 4 }],
  [GgmlType.F16, { name: 'f16', blockElements: 1, blockBytes: 2 }],
  [GgmlType.BF16, { name: 'bf16', blockElements: 1, blockBytes: 2 }],
  [GgmlType.Q8_0, { name: 'q8_0', blockElements: 32, blockBytes: 2 + 32 }],
  [GgmlType.Q4_0, { name: 'q4_0', blockElements: 32, blockBytes: 2 + 16 }],
  [GgmlType.Q4_K, { name: 'q4_k', blockElements: 256, blockBytes: 2 + 2 + 12 + 128 }],
  [GgmlType.Q6_K, { name: 'q6_k', blockElements: 256, blockBytes: 128 + 64 + 16 + 2 }],
]);

/** Block layouts by name. */
export const LAYOUT_BY_NAME: Readonly<Record<GgmlTypeName, GgmlBlockLayout>> = Object.fromEntries(
  [...GGML_LAYOUTS.values()].map((l) => [l.name, l]),
) as Record<GgmlTypeName, GgmlBlockLayout>;

/**
 * Bytes of a row of `cols` elements of a type, or null when `cols` is not a whole number of blocks
 * (such a tensor cannot be stored in that type).
 */
export function rowBytes(layout: GgmlBlockLayout, cols: number): number | null {
  if (cols % layout.blockElements !== 0) return null;
  return (cols / layout.blockElements) * layout.blockBytes;
}
