import { LAYOUT_BY_NAME, type GgmlBlockLayout } from '../../formats/ggml-types.ts';
import { GptError } from '../../errors.ts';

/**
 * The block-quantized weight types the runtime keeps quantized in memory (llama.cpp's Q8_0, Q4_0,
 * Q4_K, Q6_K, byte for byte as ggml lays them out; see formats/ggml-types.ts). A quantized
 * matrix is stored row by row, each row a whole number of blocks.
 */
export type QuantDType = 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k';

/** Every {@link QuantDType}. */
export const QUANT_DTYPES: readonly QuantDType[] = ['q8_0', 'q4_0', 'q4_k', 'q6_k'];

/** Whether `dtype` names a block-quantized type. */
export function isQuantDType(dtype: string): dtype is QuantDType {
  return (QUANT_DTYPES as readonly string[]).includes(dtype);
}

/** Elements and bytes per block of a quantized type. */
export function quantLayout(dtype: QuantDType): GgmlBlockLayout {
  return LAYOUT_BY_NAME[dtype];
}

/**
 * Bytes of one row of `cols` elements of `dtype`. GptError 'bad-tensor-shape' naming `what` when
 * `cols` is not a whole number of blocks: such a matrix cannot be stored in that type.
 */
export function quantRowBytes(dtype: QuantDType, cols: number, what: string): number {
  const { blockElements, blockBytes } = quantLayout(dtype);
  if (!Number.isInteger(cols) || cols <= 0 || cols % blockElements !== 0) {
    throw new GptError(
      'bad-tensor-shape',
      `${what}: rows of ${cols} elements are not a whole number of ${dtype} blocks (${blockElements} elements each). ` +
        `Hint: keep this matrix in f16 or f32, or pick a type whose block divides the row (q8_0 and q4_0 need a multiple of 32).`,
    );
  }
  return (cols / blockElements) * blockBytes;
}

/**
 * Where a write of `byteLength` bytes of `dtype` blocks at element `offset` lands in a (rows, cols)
 * weight: its byte offset. Quantized weights are written in whole blocks (a block's elements share
 * a scale, so half a block means nothing): GptError 'bad-argument' when the offset does not start
 * a block or the bytes are not whole blocks, 'bad-tensor-shape' when the write runs past the
 * weight.
 */
export function quantWriteAt(dtype: QuantDType, rows: number, cols: number, offset: number, byteLength: number, what: string): number {
  const { blockElements, blockBytes } = quantLayout(dtype);
  quantRowBytes(dtype, cols, what);
  if (!Number.isInteger(offset) || offset < 0 || offset % blockElements !== 0) {
    throw new GptError('bad-argument', `${what}: element offset ${offset} does not start a ${dtype} block (${blockElements} elements). Hint: write quantized weights in whole blocks.`);
  }
  if (byteLength % blockBytes !== 0) {
    throw new GptError(
      'bad-argument',
      `${what}: got ${byteLength} bytes, not a whole number of ${dtype} blocks (${blockBytes} bytes each). Hint: split the stream on block boundaries and carry the remainder into the next write.`,
    );
  }
  const blocks = byteLength / blockBytes;
  const first = offset / blockElements;
  const total = (rows * cols) / blockElements;
  if (first + blocks > total) {
    throw new GptError(
      'bad-tensor-shape',
      `${what}: writing ${blocks} ${dtype} blocks at block ${first} overruns its ${total} blocks (${rows}x${cols}). ` +
        `Hint: the tensor in the file is larger than the shape the config implies; check config.json against the checkpoint.`,
    );
  }
  return first * blockBytes;
}
