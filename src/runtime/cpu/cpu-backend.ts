import type { Activation, Backend, FloatDType, KvCache, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import type { Sampler } from '../sampler.ts';
import { decodeToF32 } from '../dtype.ts';
import {
  addInPlace,
  attentionForward,
  embedForward,
  geluForward,
  layernormForward,
  matmulForward,
  ropeForward,
  rmsnormForward,
  siluMulForward,
} from './ops.ts';
import { CpuActivation, CpuKvCache, CpuWeight } from './cpu-tensors.ts';
import { matmulHalfForward, widenHalf, writeHalf } from './half-weights.ts';
import { attentionSimd, instantiateSimdKernels, simdSupported, type SimdKernels } from './simd-kernels.ts';
import { instantiateQuantKernels, matmulQuantSimd, QuantActivationScratch, quantKernelsSupported, type QuantKernels } from './quant-kernels.ts';
import { matmulQuantForward, quantRowInto, writeQuant } from './quant-weights.ts';
import { isQuantDType, quantRowBytes, type QuantDType } from '../quant/quant-dtype.ts';
import { F32Slot, U16Slot, U8Slot, WasmArena } from './wasm-arena.ts';

/** Options of {@link CpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Run the matmuls with the WebAssembly SIMD kernels (kernels/*.wat). Unset: wherever the engine
   * supports WebAssembly SIMD, else the plain TS ops. `false`: always the TS ops (the reference the
   * tests compare against). `true`: required; GptError 'bad-argument' where unsupported.
   */
  readonly simd?: boolean;
  /**
   * The most bytes the kernels' WebAssembly memory may grow to (default: the engine's limit, 4 GiB).
   * Arrays past it are kept on the JavaScript heap and the ops that touch them run in TS.
   */
  readonly maxWasmBytes?: number;
}

/**
 * The runtime's backend on the CPU: runs each op at once on Float32Arrays. It is the fallback
 * where WebGPU is missing and the reference the WebGPU kernels are tested against.
 * It trusts its arguments: run it behind checkedBackend (../checked-backend.ts), as createBackend
 * does, since a wrong shape here would read past a typed array and silently produce NaN.
 *
 * Matmuls (over 90% of a decode step) and attention run in WebAssembly SIMD where the engine has
 * it: greedy decode of the 15M bench Llama went from 28-36 to ~155 tok/s of CPU time in Node, one
 * thread (see simd-kernels.ts). For that every array lives in one WebAssembly.Memory
 * (wasm-arena.ts); with `simd: false` they are plain Float32Arrays and every op is the TS code of
 * ops.ts, which stays the reference the kernels are tested against.
 *
 * With the kernels, the matrices of a bf16 or f16 checkpoint stay 16-bit (half the memory: a
 * 0.5B model takes 1 GB of the 4 GiB wasm32 can address instead of 2) and matmul16 widens them as
 * it reads; see half-weights.ts and the end of kernels/matmul.wat.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  /** Whether the matmuls run in the WebAssembly SIMD kernels. */
  readonly simd: boolean;
  /**
   * Why the kernels were wanted but do not run (every op then takes the plain TypeScript path,
   * several times slower), in words for a notice; null when they run or `simd: false` was asked.
   */
  readonly slowPathReason: string | null;
  private arena: WasmArena | null = null;
  private kernels: SimdKernels | null = null;
  // the kernels for block-quantized weights and their scratch (the 8-bit input rows)
  private quant: QuantKernels | null = null;
  private quantScratch: QuantActivationScratch | null = null;
  // everything this backend created, so destroy() can drop the memory of all of it
  private owned: (F32Slot | U16Slot | U8Slot)[] = [];
  // (I) a dequantized weight row, for the TS matmul over a quantized weight; grown on demand
  private quantRow = new Float32Array(0);
  // (I) a widened weight row, for the TS matmul over a 16-bit weight; grown on demand
  private halfRow = new Float32Array(0);
  // (2, I) the kernel's scratch for 2 widened rows of a 16-bit weight, I the widest such weight's;
  // allocated with the weights, at load time
  private halfScratch: F32Slot | null = null;

  constructor(opts: CpuBackendOptions = {}) {
    const max = opts.maxWasmBytes;
    if (max !== undefined && !(Number.isFinite(max) && max >= 65536)) {
      throw new GptError('bad-argument', `CpuBackend: maxWasmBytes = ${max} must be a number of bytes, at least 65536 (one WebAssembly page). Hint: leave it unset for the engine's limit.`);
    }
    let slow: string | null = null;
    if (opts.simd !== false && simdSupported()) {
      try {
        const arena = new WasmArena(opts.maxWasmBytes);
        this.kernels = instantiateSimdKernels(arena.memory);
        this.arena = arena;
        if (quantKernelsSupported()) {
          this.quant = instantiateQuantKernels(arena.memory);
          this.quantScratch = new QuantActivationScratch(arena);
        }
      } catch (err) {
        // a Content-Security-Policy without 'wasm-unsafe-eval' lets validate() pass but not compile
        if (opts.simd === true) throw simdMissing(err);
        slow = whyNoKernels(err);
      }
    } else if (opts.simd === true) {
      throw simdMissing(null);
    } else if (opts.simd !== false) {
      slow = 'this browser cannot run WebAssembly SIMD';
    }
    this.simd = this.kernels !== null;
    this.slowPathReason = slow;
  }

  /** Bytes of every weight, activation and cache this backend holds (in its arena or on the heap). */
  get bytesAllocated(): number {
    let n = 0;
    for (const s of this.owned) n += s.length * (s instanceof F32Slot ? 4 : s instanceof U16Slot ? 2 : 1);
    return n;
  }

  /** Bytes of the kernels' WebAssembly memory (0 without SIMD), scratch and padding included. */
  get wasmMemoryBytes(): number {
    return this.arena?.memory.buffer.byteLength ?? 0;
  }

  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight {
    // Quantized weights stay as ggml's blocks, in the arena when it has room (quant-weights.ts).
    if (isQuantDType(dtype)) {
      const bytes = rows * quantRowBytes(dtype, cols, `createWeight '${name}'`);
      const slot = this.arena?.allocBytes(bytes) ?? U8Slot.heap(bytes);
      this.owned.push(slot);
      return new CpuWeight(name, rows, cols, dtype, slot);
    }
    // Matrices of a 16-bit checkpoint stay 16-bit where a kernel can read them (see CpuWeight);
    // one that does not fit the arena is widened to f32 on the heap like on the TS path.
    if (dtype !== 'f32' && rows > 1 && this.arena !== null) {
      if (this.halfScratch === null || this.halfScratch.length < 2 * cols) {
        this.halfScratch = this.arena.alloc(2 * cols) ?? this.halfScratch;
      }
      const roomy = this.halfScratch !== null && this.halfScratch.length >= 2 * cols;
      const half = roomy ? this.arena.allocU16(rows * cols) : null;
      if (half !== null) {
        this.owned.push(half);
        return new CpuWeight(name, rows, cols, dtype, half);
      }
    }
    return new CpuWeight(name, rows, cols, dtype, this.alloc(rows * cols));
  }

  writeWeight(w: Weight, offset: number, bytes: Uint8Array): void {
    const cw = w as CpuWeight;
    if (cw.slot instanceof U16Slot) writeHalf(cw.slot, offset, bytes);
    else if (cw.slot instanceof U8Slot) writeQuant(cw.slot, offset, bytes, cw.dtype as QuantDType, cw.rows, cw.cols, `writeWeight '${cw.name}'`);
    else decodeToF32(cw.slot.view, offset, bytes, cw.dtype as FloatDType, `writeWeight '${cw.name}'`);
  }

  createActivation(rows: number, cols: number): Activation {
    return new CpuActivation(rows, cols, this.alloc(rows * cols));
  }

  createKvCache(L: number, S: number, width: number): KvCache {
    return new CpuKvCache(L, S, width, this.alloc(L * S * width), this.alloc(L * S * width), this.alloc(S));
  }

  embed(out: Activation, ids: Int32Array, T: number, tokEmb: Weight, posEmb: Weight | null, pos0: number): void {
    const o = out as CpuActivation;
    const te = tokEmb as CpuWeight;
    const pe = posEmb as CpuWeight | null;
    const C = te.cols;
    if (te.slot instanceof F32Slot && (pe === null || pe.slot instanceof F32Slot)) {
      embedForward(o.data, ids, T, C, te.slot.view, pe === null ? null : pe.data, pos0);
      return;
    }
    // 16-bit and quantized tables: widen just the rows asked for (one per token), never the whole table
    const dst = o.data; // (T, C)
    const posRow = new Float32Array(pe === null ? 0 : C); // (C) one widened position row
    for (let t = 0; t < T; t++) {
      rowInto(dst, t * C, te, ids[t]);
      if (pe !== null) {
        rowInto(posRow, 0, pe, pos0 + t);
        for (let c = 0; c < C; c++) dst[t * C + c] += posRow[c];
      }
    }
  }

  layerNorm(out: Activation, inp: Activation, weight: Weight, bias: Weight, T: number, eps: number): void {
    layernormForward((out as CpuActivation).data, (inp as CpuActivation).data, (weight as CpuWeight).data, (bias as CpuWeight).data, T, inp.cols, eps);
  }

  rmsNorm(out: Activation, inp: Activation, weight: Weight, T: number, eps: number): void {
    rmsnormForward((out as CpuActivation).data, (inp as CpuActivation).data, (weight as CpuWeight).data, T, inp.cols, eps);
  }

  addNorm(out: Activation, x: Activation, inp: Activation, weight: Weight, bias: Weight | null, T: number, eps: number): void {
    this.addInPlace(x, inp, T);
    if (bias === null) this.rmsNorm(out, x, weight, T, eps);
    else this.layerNorm(out, x, weight, bias, T, eps);
  }

  matmul(out: Activation, inp: Activation, w: Weight, bias: Weight | null, T: number): void {
    const o = out as CpuActivation;
    const x = inp as CpuActivation;
    const cw = w as CpuWeight;
    const b = bias as CpuWeight | null;
    const I = cw.cols;
    const O = cw.rows;
    const ws = cw.slot;
    const k = this.kernels !== null && inArena(o.slot, x.slot, ws, b === null ? null : b.slot) ? this.kernels : null;
    if (ws instanceof U8Slot) {
      const dtype = cw.dtype as QuantDType;
      const q = k !== null ? this.quant : null;
      if (q !== null && matmulQuantSimd(q, this.quantScratch!, o.slot, x.slot, ws, dtype, b === null ? null : (b.slot as F32Slot), T, I, O)) return;
      if (this.quantRow.length < I) this.quantRow = new Float32Array(I);
      matmulQuantForward(o.data, x.data, ws.view, dtype, b === null ? null : b.data, T, I, O, this.quantRow);
    } else if (ws instanceof U16Slot) {
      const f16 = cw.dtype === 'f16';
      if (k !== null && this.halfScratch !== null) {
        k.matmul16(o.slot.byteOffset, x.slot.byteOffset, ws.byteOffset, b === null ? 0 : b.slot.byteOffset, T, I, O, f16 ? 1 : 0, this.halfScratch.byteOffset);
      } else {
        if (this.halfRow.length < I) this.halfRow = new Float32Array(I);
        matmulHalfForward(o.data, x.data, ws.view, f16 ? 'f16' : 'bf16', b === null ? null : b.data, T, I, O, this.halfRow);
      }
    } else if (k !== null) {
      k.matmul(o.slot.byteOffset, x.slot.byteOffset, ws.byteOffset, b === null ? 0 : b.slot.byteOffset, T, I, O);
    } else {
      matmulForward(o.data, x.data, ws.view, b === null ? null : b.data, T, I, O);
    }
  }

  attention(out: Activation, qkv: Activation, kvCache: KvCache, layer: number, T: number, pos0: number, cfg: ModelConfig): void {
    const o = out as CpuActivation;
    const x = qkv as CpuActivation;
    const kv = kvCache as CpuKvCache;
    const { H, Hkv, D } = cfg;
    if (cfg.position === 'rope') ropeForward(x.data, T, pos0, H, Hkv, D, cfg.ropeInvFreq);
    const layerOffset = layer * kv.S * kv.width;
    if (this.kernels !== null && inArena(o.slot, x.slot, kv.kSlot, kv.vSlot, kv.scoresSlot)) {
      attentionSimd(this.kernels, o.slot, x.slot, kv.kSlot, kv.vSlot, layerOffset, kv.scoresSlot, T, pos0, H, Hkv, D);
    } else {
      attentionForward(o.data, x.data, kv.k, kv.v, layerOffset, kv.scores, T, pos0, H, Hkv, D);
    }
  }

  gelu(out: Activation, inp: Activation, T: number): void {
    geluForward((out as CpuActivation).data, (inp as CpuActivation).data, T * inp.cols);
  }

  swiglu(out: Activation, inp: Activation, w: Weight, scratch: Activation, T: number): void {
    this.matmul(scratch, inp, w, null, T);
    siluMulForward((out as CpuActivation).data, (scratch as CpuActivation).data, T, out.cols);
  }

  addInPlace(out: Activation, inp: Activation, T: number): void {
    addInPlace((out as CpuActivation).data, (inp as CpuActivation).data, T * out.cols);
  }

  copyRows(out: Activation, inp: Activation, srcRow: number, n: number): void {
    const C = inp.cols;
    (out as CpuActivation).data.set((inp as CpuActivation).data.subarray(srcRow * C, (srcRow + n) * C));
  }

  async read(act: Activation, rows: number, into: Float32Array): Promise<void> {
    into.set((act as CpuActivation).data.subarray(0, rows * act.cols));
  }

  async readArgmax(act: Activation): Promise<{ index: number; value: number }> {
    const row = (act as CpuActivation).data;
    let index = 0;
    let value = row[0];
    for (let i = 1; i < act.cols; i++) {
      const v = row[i];
      if (v > value || (value !== value && v === v)) {
        value = v;
        index = i;
      }
    }
    return { index, value };
  }

  async readSample(act: Activation, sampler: Sampler, random: number): Promise<number> {
    return sampler.pick((act as CpuActivation).data.subarray(0, act.cols), random);
  }

  async flush(): Promise<void> {}

  // The kernels were instantiated with the backend (compileSimdKernels, started at load, made
  // that free); there is nothing to compile per op. `plan` is not run: on the CPU it would compute.
  async prepare(): Promise<void> {}

  destroy(): void {
    // Drop the arrays, not just the list: callers may still hold the objects (a model's weights
    // table), and the memory must go now, not when they let go.
    for (const s of this.owned) {
      if (s instanceof U16Slot) s.view = new Uint16Array(0);
      else if (s instanceof U8Slot) s.view = new Uint8Array(0);
      else s.view = new Float32Array(0);
    }
    this.owned = [];
    this.quant = null;
    this.quantScratch = null;
    this.arena?.release();
    this.arena = null;
    this.kernels = null;
  }

  // (length) zeroed floats: in the kernels' memory when there are kernels and it has room
  private alloc(length: number): F32Slot {
    const slot = this.arena?.alloc(length) ?? F32Slot.heap(length);
    this.owned.push(slot);
    return slot;
  }
}

// A kernel can read only its own memory: an operand that did not fit there (the arena was full)
// sends the op down the TS path. `null` stands for an absent operand. Fixed arity, no rest array:
// this runs for every op of every token.
type Placed = { readonly byteOffset: number };
function inArena(a: Placed, b: Placed, c: Placed, d: Placed | null, e: Placed | null = null): boolean {
  return a.byteOffset > 0 && b.byteOffset > 0 && c.byteOffset > 0 && (d === null || d.byteOffset > 0) && (e === null || e.byteOffset > 0);
}

// out[at ..] (C) = row `row` of the table `w` (rows, C), widened when it is 16-bit, dequantized
// when it is quantized
function rowInto(out: Float32Array, at: number, w: CpuWeight, row: number): void {
  const C = w.cols;
  const s = w.slot;
  if (s instanceof F32Slot) out.set(s.view.subarray(row * C, (row + 1) * C), at);
  else if (s instanceof U8Slot) quantRowInto(out, at, s.view, w.dtype as QuantDType, row, C);
  else widenHalf(out, at, s.view, row * C, C, w.dtype === 'f16' ? 'f16' : 'bf16');
}

// The kernels failed to compile or instantiate: a Content-Security-Policy without
// 'wasm-unsafe-eval' (Chromium: "Refused to compile or instantiate WebAssembly module because
// 'unsafe-eval' is not an allowed source of script ..."), or memory the engine would not give.
function whyNoKernels(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/content.security.policy|unsafe-eval|\bCSP\b/i.test(message)) {
    return "this page's Content-Security-Policy blocks WebAssembly (script-src without 'wasm-unsafe-eval')";
  }
  return `the WebAssembly kernels could not start (${message})`;
}

function simdMissing(cause: unknown): GptError {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new GptError(
    'bad-argument',
    `CpuBackend: simd: true was asked for, but this JavaScript engine cannot run WebAssembly SIMD${why}. Hint: leave 'simd' unset to fall back to the plain TypeScript kernels.`,
  );
}
