import attentionWasm from './kernels/attention.wat';
import matmulWasm from './kernels/matmul.wat';
import { softmaxInPlace, storeKv } from './ops.ts';
import type { F32Slot } from './wasm-arena.ts';

/**
 * The WebAssembly SIMD kernels of the CPU backend (kernels/*.wat), bound to one arena's memory.
 * Arguments named like arrays are byte offsets into that memory ({@link F32Slot.byteOffset}); the
 * TS function each one replaces in ops.ts is its reference, with the same argument order.
 *
 * Measured in Node 20, one thread, on the bench model (15M Llama, f32, C 288, 6 layers, V 32000):
 * greedy decode 28-36 tok/s of CPU time with the TS ops, ~155 with these. Of the ~6.5 ms a token
 * then takes, ~5 ms are matmuls bound by memory (60 MB of weights; the 37 MB output head streams at
 * 13 GB/s, as fast as a plain SIMD sum over it) and ~0.5 ms attention at ~70 cached positions
 * (1.4 ms in TS).
 */
export interface SimdKernels {
  /** matmulForward: out (T, O) = inp (T, I) @ w (O, I)^T + bias (O); bias 0 for none. */
  matmul(out: number, inp: number, w: number, bias: number, T: number, I: number, O: number): void;
  /**
   * The same for a 16-bit w (O, I), bf16 (f16 = 0) or f16 (f16 = 1), widened two rows at a time
   * into `scratch` (2 I floats); bit for bit `matmul` on the f32 widening of w.
   */
  matmul16(out: number, inp: number, w: number, bias: number, T: number, I: number, O: number, f16: number, scratch: number): void;
  /** s (n) = scale (q (D) . k[p] (D)), k rows `stride` bytes apart. */
  scores(s: number, q: number, k: number, n: number, D: number, stride: number, scale: number): void;
  /** out (D) = sum over p < n of s[p] v[p] (D), v rows `stride` bytes apart. */
  mixValues(out: number, s: number, v: number, n: number, D: number, stride: number): void;
}

const MODULES = [matmulWasm, attentionWasm];

/**
 * Whether this engine runs WebAssembly with SIMD. It validates the kernel modules themselves
 * rather than a probe, so the answer is about exactly the instructions we use (f32x4 arithmetic,
 * v128 loads). Safari before 16.4 and engines with WebAssembly disabled (iOS lockdown mode) say no.
 */
export function simdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && MODULES.every((bytes) => WebAssembly.validate(bytes));
  } catch {
    return false;
  }
}

// compiled once per realm; every backend instantiates them over its own memory
let compiled: WebAssembly.Module[] | null = null;
let compiling: Promise<void> | null = null;

/**
 * Starts compiling the kernel modules off the main thread (WebAssembly.compile), once per realm:
 * the loader calls it first thing, so the compilation overlaps reading the model instead of
 * blocking the backend's constructor. Never rejects: where compiling fails (a CSP without
 * 'wasm-unsafe-eval'), instantiateSimdKernels meets the same error and the backend keeps the TS ops.
 */
export function compileSimdKernels(): Promise<void> {
  if (compiled || !simdSupported()) return Promise.resolve();
  return (compiling ??= Promise.all(MODULES.map((bytes) => WebAssembly.compile(bytes))).then(
    (modules) => void (compiled ??= modules),
    () => undefined,
  ));
}

/**
 * The kernels over `memory`. Synchronous, so the backend's constructor stays synchronous: it takes
 * the modules {@link compileSimdKernels} compiled, or compiles them here when that has not
 * finished (they are a few KB, far below the size, 8 MB in Chromium, past which browsers refuse
 * synchronous compilation on the main thread). Throws (a CompileError) where a
 * Content-Security-Policy forbids WebAssembly; the backend then keeps the TS path.
 */
export function instantiateSimdKernels(memory: WebAssembly.Memory): SimdKernels {
  compiled ??= MODULES.map((bytes) => new WebAssembly.Module(bytes));
  const [matmul, attention] = compiled.map((m) => new WebAssembly.Instance(m, { env: { memory } }).exports);
  return {
    matmul: matmul.matmul as SimdKernels['matmul'],
    matmul16: matmul.matmul16 as SimdKernels['matmul16'],
    scores: attention.scores as SimdKernels['scores'],
    mixValues: attention.mixValues as SimdKernels['mixValues'],
  };
}

/**
 * attentionForward of ops.ts with its two dot-product loops in SIMD: the same arguments, as slots
 * of the kernels' memory. `layerOffset` (= layer S Hkv D) is in elements, like there.
 */
export function attentionSimd(
  kernels: SimdKernels,
  out: F32Slot, // (T, H D)
  qkv: F32Slot, // (T, (H + 2 Hkv) D)
  kCache: F32Slot, // (L, S, Hkv D)
  vCache: F32Slot, // (L, S, Hkv D)
  layerOffset: number,
  scores: F32Slot, // (S) scratch
  T: number,
  pos0: number,
  H: number,
  Hkv: number,
  D: number,
): void {
  const width = (H + 2 * Hkv) * D;
  const kvWidth = Hkv * D;
  const group = H / Hkv; // query heads per kv head
  const scale = 1 / Math.sqrt(D);
  const stride = kvWidth * 4; // bytes from one cached position to the next

  storeKv(kCache.view, vCache.view, qkv.view, layerOffset, T, pos0, H, Hkv, D);

  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1; // causal: positions 0 .. pos0 + t
    for (let h = 0; h < H; h++) {
      const g = layerOffset + Math.floor(h / group) * D; // the kv head's column in cache row 0
      kernels.scores(scores.byteOffset, qkv.byteOffset + (t * width + h * D) * 4, kCache.byteOffset + g * 4, n, D, stride, scale);
      softmaxInPlace(scores.view, n);
      kernels.mixValues(out.byteOffset + (t * H + h) * D * 4, scores.byteOffset, vCache.byteOffset + g * 4, n, D, stride);
    }
  }
}
