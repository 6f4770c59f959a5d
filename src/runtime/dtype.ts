import type { FloatDType } from './backend.ts';
import { GptError } from '../errors.ts';

/**
 * Decoding of the weight element types we load (F32, F16, BF16, all little-endian as safetensors
 * stores them) into float32: vectors on every backend, matrices on the CPU backend's plain-TS
 * path (its WebAssembly SIMD path keeps 16-bit matrices 16-bit and widens them in the kernel).
 */

/** Bytes per element of each weight dtype. */
export const DTYPE_BYTES: Readonly<Record<FloatDType, number>> = { f32: 4, f16: 2, bf16: 2 };

/**
 * The float32 value of one IEEE 754 binary16 bit pattern `h` (0 .. 65535): normals, subnormals,
 * signed zeros, infinities and NaN.
 */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal: mant * 2^-14 / 1024
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// scratch for reading a float32's bits
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The IEEE 754 binary16 bit pattern nearest to `x` rounded to float32 first, ties to even (what
 * F16C's vcvtps2ph and ggml's GGML_FP32_TO_FP16 do): overflow to infinity, exact subnormals, NaN
 * kept NaN.
 */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112; // the binary16 exponent field, before checking its range
  if (e >= 31) return sign | 0x7c00;
  // the kept bits and the dropped ones: 13 dropped for a normal, more for a subnormal
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign; // below half the smallest subnormal
  const full = e > 0 ? mant : mant | 0x800000;
  const kept = (e > 0 ? e << 10 : 0) | (full >>> shift);
  const dropped = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  // a carry out of the mantissa steps the exponent up, and past the largest normal to infinity
  return sign | (kept + (dropped > half || (dropped === half && (kept & 1) === 1) ? 1 : 0));
}

// (65536) float32 value of every binary16 bit pattern, built on first use: 256 KiB once, then a
// decode is one table read per element instead of a branchy bit decode.
let f16Table: Float32Array | null = null;

function getF16Table(): Float32Array {
  if (f16Table === null) {
    const table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f16BitsToF32(h);
    f16Table = table;
  }
  return f16Table;
}

/**
 * Decodes `n` little-endian binary16 elements of `bytes` into `out[outOffset ..]`. `bytes` may sit
 * at any byte offset (a chunk of a stream), so elements are assembled from single bytes.
 */
export function f16ToF32(out: Float32Array, outOffset: number, bytes: Uint8Array, n: number): void {
  const table = getF16Table();
  for (let i = 0; i < n; i++) {
    out[outOffset + i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  }
}

/**
 * Decodes `n` little-endian bfloat16 elements of `bytes` into `out[outOffset ..]`. A bfloat16 is
 * the high half of a float32, so each element is its 16 bits shifted into the high half of a u32.
 */
export function bf16ToF32(out: Float32Array, outOffset: number, bytes: Uint8Array, n: number): void {
  // (out.length) the same memory seen as bit patterns
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < n; i++) {
    // `<< 16` yields a negative int32 when the sign bit is set; the Uint32Array store wraps it
    // back to the right unsigned pattern.
    bits[outOffset + i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
  }
}

/** Copies `n` little-endian float32 elements of `bytes` (any byte offset) into `out[outOffset ..]`. */
function f32ToF32(out: Float32Array, outOffset: number, bytes: Uint8Array, n: number): void {
  // A Float32Array view needs 4-byte alignment; streamed chunks often lack it, so copy the bytes
  // into the destination's own memory instead (both little-endian on every platform we run on).
  new Uint8Array(out.buffer, out.byteOffset + 4 * outOffset, 4 * n).set(bytes.subarray(0, 4 * n));
}

/**
 * Decodes whole elements of `dtype` from `bytes` into `out` starting at element `outOffset`.
 * Returns the number of elements written. `what` names the destination for error messages.
 */
export function decodeToF32(out: Float32Array, outOffset: number, bytes: Uint8Array, dtype: FloatDType, what: string): number {
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) {
    throw new GptError('unsupported-dtype', `${what}: dtype '${String(dtype)}' is not one of f32, f16, bf16. Hint: convert the checkpoint to one of those.`);
  }
  if (bytes.length % size !== 0) {
    throw new GptError(
      'bad-argument',
      `${what}: got ${bytes.length} bytes, not a whole number of ${dtype} elements (${size} bytes each). ` +
        `Hint: split the stream on element boundaries and carry the remainder into the next write.`,
    );
  }
  const n = bytes.length / size;
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + n > out.length) {
    throw new GptError(
      'bad-tensor-shape',
      `${what}: writing ${n} elements at element ${outOffset} overruns its ${out.length} elements. ` +
        `Hint: the tensor in the file is larger than the shape the config implies; check config.json against the checkpoint.`,
    );
  }
  if (dtype === 'f32') f32ToF32(out, outOffset, bytes, n);
  else if (dtype === 'f16') f16ToF32(out, outOffset, bytes, n);
  else bf16ToF32(out, outOffset, bytes, n);
  return n;
}
