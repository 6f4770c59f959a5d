import type { FloatDType } from '../backend.ts';
import { DTYPE_BYTES, f16BitsToF32, f32ToF16Bits } from '../dtype.ts';

/**
 * Re-encodes little-endian float elements between the weight dtypes. Only needed when the parts of
 * a fused weight (q/k/v, gate/up) arrive in different dtypes, which real checkpoints almost never
 * do, so clarity beats speed here: decode to float64, encode with round-to-nearest-even.
 */

/** `bytes` of `from` elements re-encoded as `to` elements (the input itself when equal). */
export function convertDType(bytes: Uint8Array, from: FloatDType, to: FloatDType): Uint8Array {
  if (from === to) return bytes;
  const n = bytes.byteLength / DTYPE_BYTES[from];
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint8Array(n * DTYPE_BYTES[to]);
  const dst = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = from === 'f32' ? src.getFloat32(4 * i, true) : from === 'f16' ? f16BitsToF32(src.getUint16(2 * i, true)) : bf16ToNumber(src.getUint16(2 * i, true));
    if (to === 'f32') dst.setFloat32(4 * i, x, true);
    else dst.setUint16(2 * i, to === 'f16' ? f32ToF16Bits(x) : numberToBf16(x), true);
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bf16ToNumber(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

function numberToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if (Number.isNaN(x)) return 0x7fc0;
  // round to nearest even on the 16 bits dropped
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A (rows, cols) row-major matrix of `elemBytes`-byte elements transposed to (cols, rows). */
export function transposeBytes(input: Uint8Array, rows: number, cols: number, elemBytes: number): Uint8Array {
  // typed-array views need an aligned offset; a stream chunk may not have one
  const bytes = input.byteOffset % elemBytes === 0 ? input : input.slice();
  const out = new Uint8Array(bytes.byteLength);
  if (elemBytes === 4) {
    const src = new Uint32Array(bytes.buffer, bytes.byteOffset, rows * cols);
    const dst = new Uint32Array(out.buffer);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  } else {
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, rows * cols);
    const dst = new Uint16Array(out.buffer);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
  return out;
}
