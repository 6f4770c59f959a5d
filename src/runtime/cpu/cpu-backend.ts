import type { Activation, Backend, KvCache, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { DTYPE_BYTES, decodeToF32 } from '../dtype.ts';
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
import { matmulHalfForward, widenHalf, writeHalf } from './half-weights.ts';
import { attentionSimd, instantiateSimdKernels, simdSupported, type SimdKernels } from './simd-kernels.ts';
import { F32Slot, U16Slot, WasmArena } from './wasm-arena.ts';

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
 * A weight of the CPU backend. `dtype` is the element type {@link CpuBackend.writeWeight} accepts
 * for it (the checkpoint's). Storage is float32, widened on write, except for bf16 and f16
 * matrices (rows > 1) when the SIMD kernels run: those stay 16-bit in the kernels' memory
 * (a {@link U16Slot}) and are widened as the matmul reads them, or one row at a time by embed.
 */
export class CpuWeight implements Weight {
  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    readonly dtype: WeightDType,
    readonly slot: F32Slot | U16Slot, // (rows, cols) row-major
  ) {}

  /**
   * The elements as float32, (rows, cols) row-major. Read it afresh: the array is replaced when
   * memory grows. For a 16-bit weight this is a widened copy, made on every read: the ops never
   * use it on one (only norms' and biases' vectors, which are always f32), tests and tools may.
   */
  get data(): Float32Array {
    const s = this.slot;
    if (s instanceof F32Slot) return s.view;
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

/**
 * The runtime's backend on the CPU: runs each op at once on Float32Arrays. It is the fallback
 * where WebGPU is missing and the reference the WebGPU kernels are tested against.
 * Every op checks the shapes of its arguments (a handful of comparisons, nothing per element) and
 * throws GptError 'bad-argument' naming the op and the mismatch, since a wrong shape here would
 * otherwise read past a typed array and silently produce NaN.
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
  private arena: WasmArena | null = null;
  private kernels: SimdKernels | null = null;
  // everything this backend created, so destroy() can drop the memory of all of it
  private owned: (F32Slot | U16Slot)[] = [];
  // (I) a widened weight row, for the TS matmul over a 16-bit weight; grown on demand
  private halfRow = new Float32Array(0);
  // (2, I) the kernel's scratch for 2 widened rows of a 16-bit weight, I the widest such weight's;
  // allocated with the weights, at load time
  private halfScratch: F32Slot | null = null;
  private destroyed = false;

  constructor(opts: CpuBackendOptions = {}) {
    const max = opts.maxWasmBytes;
    if (max !== undefined && !(Number.isFinite(max) && max >= 65536)) {
      throw badArg(`CpuBackend: maxWasmBytes = ${max} must be a number of bytes, at least 65536 (one WebAssembly page). Hint: leave it unset for the engine's limit.`);
    }
    if (opts.simd !== false && simdSupported()) {
      try {
        const arena = new WasmArena(opts.maxWasmBytes);
        this.kernels = instantiateSimdKernels(arena.memory);
        this.arena = arena;
      } catch (err) {
        // a Content-Security-Policy without 'wasm-unsafe-eval' lets validate() pass but not compile
        if (opts.simd === true) throw simdMissing(err);
      }
    } else if (opts.simd === true) {
      throw simdMissing(null);
    }
    this.simd = this.kernels !== null;
  }

  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight {
    this.alive();
    checkDims(`createWeight '${name}'`, rows, cols);
    if (DTYPE_BYTES[dtype] === undefined) {
      throw new GptError('unsupported-dtype', `createWeight '${name}': dtype '${String(dtype)}' is not one of f32, f16, bf16. Hint: convert the checkpoint to one of those.`);
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
    this.alive();
    const cw = asWeight('writeWeight', w);
    const what = `writeWeight '${cw.name}' (${cw.rows}x${cw.cols} ${cw.dtype})`;
    if (cw.slot instanceof U16Slot) writeHalf(cw.slot, offset, bytes, cw.dtype === 'f16' ? 'f16' : 'bf16', what);
    else decodeToF32(cw.slot.view, offset, bytes, cw.dtype, what);
  }

  createActivation(rows: number, cols: number): Activation {
    this.alive();
    checkDims('createActivation', rows, cols);
    return new CpuActivation(rows, cols, this.alloc(rows * cols));
  }

  createKvCache(L: number, S: number, width: number): KvCache {
    this.alive();
    checkDims('createKvCache', L, S);
    checkDims('createKvCache', S, width);
    return new CpuKvCache(L, S, width, this.alloc(L * S * width), this.alloc(L * S * width), this.alloc(S));
  }

  embed(out: Activation, ids: Int32Array, T: number, tokEmb: Weight, posEmb: Weight | null, pos0: number): void {
    this.alive();
    const o = asAct('embed', 'out', out);
    const te = asWeight('embed', tokEmb);
    const C = te.cols;
    checkT('embed', T, o, C);
    if (ids.length < T) throw badArg(`embed: ids has ${ids.length} entries, fewer than T = ${T}.`);
    const V = te.rows;
    for (let t = 0; t < T; t++) {
      const id = ids[t];
      if (id < 0 || id >= V) {
        throw badArg(`embed: token id ${id} at row ${t} is outside the vocabulary of '${te.name}' (0 .. ${V - 1}). Hint: the tokenizer does not match the model.`);
      }
    }
    let pe: CpuWeight | null = null;
    if (posEmb !== null) {
      pe = asWeight('embed', posEmb);
      if (pe.cols !== C) throw badArg(`embed: position table '${pe.name}' has ${pe.cols} columns, expected C = ${C} like '${te.name}'.`);
      checkPos0('embed', pos0);
      if (pos0 + T > pe.rows) {
        throw new GptError(
          'context-overflow',
          `embed: positions ${pos0} .. ${pos0 + T - 1} are past the ${pe.rows} learned positions of '${pe.name}'. Hint: shorten the conversation or start a new one.`,
        );
      }
    }
    if (te.slot instanceof F32Slot && (pe === null || pe.slot instanceof F32Slot)) {
      embedForward(o.data, ids, T, C, te.slot.view, pe === null ? null : pe.data, pos0);
      return;
    }
    // 16-bit tables: widen just the rows asked for (one per token), never the whole table
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
    this.alive();
    const o = asAct('layerNorm', 'out', out);
    const x = asAct('layerNorm', 'inp', inp);
    const C = x.cols;
    checkT('layerNorm', T, x, C);
    checkT('layerNorm', T, o, C);
    const w = checkVector('layerNorm', weight, C);
    const b = checkVector('layerNorm', bias, C);
    layernormForward(o.data, x.data, w.data, b.data, T, C, eps);
  }

  rmsNorm(out: Activation, inp: Activation, weight: Weight, T: number, eps: number): void {
    this.alive();
    const o = asAct('rmsNorm', 'out', out);
    const x = asAct('rmsNorm', 'inp', inp);
    const C = x.cols;
    checkT('rmsNorm', T, x, C);
    checkT('rmsNorm', T, o, C);
    const w = checkVector('rmsNorm', weight, C);
    rmsnormForward(o.data, x.data, w.data, T, C, eps);
  }

  matmul(out: Activation, inp: Activation, w: Weight, bias: Weight | null, T: number): void {
    this.alive();
    const o = asAct('matmul', 'out', out);
    const x = asAct('matmul', 'inp', inp);
    const cw = asWeight('matmul', w);
    const I = cw.cols;
    const O = cw.rows;
    if (x.cols !== I) throw badArg(`matmul: inp has ${x.cols} columns but '${cw.name}' (${O}x${I}) expects ${I} inputs.`);
    if (o.cols !== O) throw badArg(`matmul: out has ${o.cols} columns but '${cw.name}' (${O}x${I}) has ${O} outputs.`);
    checkT('matmul', T, x, I);
    checkT('matmul', T, o, O);
    if (o === x) throw badArg(`matmul: out and inp are the same activation; '${cw.name}' needs a separate output.`);
    const b = bias === null ? null : checkVector('matmul', bias, O);
    const ws = cw.slot;
    const k = this.kernels !== null && inArena(o.slot, x.slot, ws, b === null ? null : b.slot) ? this.kernels : null;
    if (ws instanceof U16Slot) {
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

  rope(qkv: Activation, T: number, pos0: number, cfg: ModelConfig): void {
    this.alive();
    const x = asAct('rope', 'qkv', qkv);
    const { H, Hkv, D } = cfg;
    checkT('rope', T, x, (H + 2 * Hkv) * D);
    checkPos0('rope', pos0);
    if (cfg.ropeInvFreq.length !== D / 2) {
      throw new GptError(
        'bad-config',
        `rope: ropeInvFreq has ${cfg.ropeInvFreq.length} entries, expected D/2 = ${D / 2}. Hint: rope needs position 'rope' and a head size D that is even.`,
      );
    }
    ropeForward(x.data, T, pos0, H, Hkv, D, cfg.ropeInvFreq);
  }

  attention(out: Activation, qkv: Activation, kv: KvCache, layer: number, T: number, pos0: number, cfg: ModelConfig): void {
    this.alive();
    const o = asAct('attention', 'out', out);
    const x = asAct('attention', 'qkv', qkv);
    if (!(kv instanceof CpuKvCache)) throw badArg('attention: the KV cache was not created by this CpuBackend.');
    const { H, Hkv, D } = cfg;
    if (!(Hkv > 0 && H % Hkv === 0)) throw new GptError('bad-config', `attention: H = ${H} query heads is not a multiple of Hkv = ${Hkv} key/value heads. Hint: check num_key_value_heads in config.json.`);
    checkT('attention', T, x, (H + 2 * Hkv) * D);
    checkT('attention', T, o, H * D);
    if (kv.width !== Hkv * D) throw badArg(`attention: the KV cache rows hold ${kv.width} floats, expected Hkv D = ${Hkv * D}.`);
    if (!Number.isInteger(layer) || layer < 0 || layer >= kv.L) throw badArg(`attention: layer ${layer} is outside the KV cache's 0 .. ${kv.L - 1}.`);
    checkPos0('attention', pos0);
    if (pos0 + T > kv.S) {
      throw new GptError(
        'context-overflow',
        `attention: positions ${pos0} .. ${pos0 + T - 1} do not fit the context window of ${kv.S} tokens. Hint: shorten the conversation or start a new one.`,
      );
    }
    const layerOffset = layer * kv.S * kv.width;
    if (this.kernels !== null && inArena(o.slot, x.slot, kv.kSlot, kv.vSlot, kv.scoresSlot)) {
      attentionSimd(this.kernels, o.slot, x.slot, kv.kSlot, kv.vSlot, layerOffset, kv.scoresSlot, T, pos0, H, Hkv, D);
    } else {
      attentionForward(o.data, x.data, kv.k, kv.v, layerOffset, kv.scores, T, pos0, H, Hkv, D);
    }
  }

  gelu(out: Activation, inp: Activation, T: number): void {
    this.alive();
    const o = asAct('gelu', 'out', out);
    const x = asAct('gelu', 'inp', inp);
    checkT('gelu', T, x, x.cols);
    checkT('gelu', T, o, x.cols);
    geluForward(o.data, x.data, T * x.cols);
  }

  siluMul(out: Activation, inp: Activation, T: number): void {
    this.alive();
    const o = asAct('siluMul', 'out', out);
    const x = asAct('siluMul', 'inp', inp);
    const F = o.cols;
    checkT('siluMul', T, o, F);
    checkT('siluMul', T, x, 2 * F);
    siluMulForward(o.data, x.data, T, F);
  }

  addInPlace(out: Activation, inp: Activation, T: number): void {
    this.alive();
    const o = asAct('addInPlace', 'out', out);
    const x = asAct('addInPlace', 'inp', inp);
    checkT('addInPlace', T, o, o.cols);
    checkT('addInPlace', T, x, o.cols);
    addInPlace(o.data, x.data, T * o.cols);
  }

  copyRows(out: Activation, inp: Activation, srcRow: number, n: number): void {
    this.alive();
    const o = asAct('copyRows', 'out', out);
    const x = asAct('copyRows', 'inp', inp);
    const C = x.cols;
    checkT('copyRows', n, o, C);
    if (!Number.isInteger(srcRow) || srcRow < 0 || srcRow + n > x.rows) {
      throw badArg(`copyRows: rows ${srcRow} .. ${srcRow + n - 1} are outside inp's ${x.rows} rows.`);
    }
    o.data.set(x.data.subarray(srcRow * C, (srcRow + n) * C));
  }

  async read(act: Activation, rows: number, into: Float32Array): Promise<void> {
    this.alive();
    const a = asAct('read', 'act', act);
    if (!Number.isInteger(rows) || rows < 0 || rows > a.rows) throw badArg(`read: ${rows} rows asked of an activation with ${a.rows}.`);
    const n = rows * a.cols;
    if (into.length < n) throw badArg(`read: 'into' holds ${into.length} floats, ${rows} rows of ${a.cols} need ${n}.`);
    into.set(a.data.subarray(0, n));
  }

  async flush(): Promise<void> {
    this.alive();
  }

  destroy(): void {
    // Drop the arrays, not just the list: callers may still hold the objects (a model's weights
    // table), and the memory must go now, not when they let go.
    for (const s of this.owned) {
      if (s instanceof U16Slot) s.view = new Uint16Array(0);
      else s.view = new Float32Array(0);
    }
    this.owned = [];
    this.arena?.release();
    this.arena = null;
    this.kernels = null;
    this.destroyed = true;
  }

  // (length) zeroed floats: in the kernels' memory when there are kernels and it has room
  private alloc(length: number): F32Slot {
    const slot = this.arena?.alloc(length) ?? F32Slot.heap(length);
    this.owned.push(slot);
    return slot;
  }

  private alive(): void {
    if (this.destroyed) throw new GptError('disposed', 'This CPU backend was destroyed. Hint: load the model again.');
  }
}

// A kernel can read only its own memory: an operand that did not fit there (the arena was full)
// sends the op down the TS path. `null` stands for an absent operand. Fixed arity, no rest array:
// this runs for every op of every token.
type Placed = { readonly byteOffset: number };
function inArena(a: Placed, b: Placed, c: Placed, d: Placed | null, e: Placed | null = null): boolean {
  return a.byteOffset > 0 && b.byteOffset > 0 && c.byteOffset > 0 && (d === null || d.byteOffset > 0) && (e === null || e.byteOffset > 0);
}

// out[at ..] (C) = row `row` of the table `w` (rows, C), widened when it is 16-bit
function rowInto(out: Float32Array, at: number, w: CpuWeight, row: number): void {
  const C = w.cols;
  const s = w.slot;
  if (s instanceof F32Slot) out.set(s.view.subarray(row * C, (row + 1) * C), at);
  else widenHalf(out, at, s.view, row * C, C, w.dtype === 'f16' ? 'f16' : 'bf16');
}

function simdMissing(cause: unknown): GptError {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new GptError(
    'bad-argument',
    `CpuBackend: simd: true was asked for, but this JavaScript engine cannot run WebAssembly SIMD${why}. Hint: leave 'simd' unset to fall back to the plain TypeScript kernels.`,
  );
}

function badArg(message: string): GptError {
  return new GptError('bad-argument', message);
}

function checkDims(what: string, a: number, b: number): void {
  if (!(Number.isInteger(a) && a > 0 && Number.isInteger(b) && b > 0)) {
    throw badArg(`${what}: shape (${a}, ${b}) must be two positive integers.`);
  }
}

function asAct(op: string, arg: string, a: Activation): CpuActivation {
  if (!(a instanceof CpuActivation)) throw badArg(`${op}: '${arg}' was not created by a CpuBackend.`);
  return a;
}

function asWeight(op: string, w: Weight): CpuWeight {
  if (!(w instanceof CpuWeight)) throw badArg(`${op}: the weight was not created by a CpuBackend.`);
  return w;
}

// T live rows of `a`, which must have exactly `cols` columns
function checkT(op: string, T: number, a: CpuActivation, cols: number): void {
  if (a.cols !== cols) throw badArg(`${op}: an activation has ${a.cols} columns, expected ${cols}.`);
  if (!Number.isInteger(T) || T < 1 || T > a.rows) throw badArg(`${op}: T = ${T} must be an integer in 1 .. ${a.rows}, the rows allocated.`);
}

function checkPos0(op: string, pos0: number): void {
  if (!Number.isInteger(pos0) || pos0 < 0) throw badArg(`${op}: pos0 = ${pos0} must be a non-negative integer.`);
}

// a (1, n) weight such as a norm's scale or a bias
function checkVector(op: string, w: Weight, n: number): CpuWeight {
  const v = asWeight(op, w);
  if (v.rows * v.cols !== n) throw badArg(`${op}: '${v.name}' has ${v.rows}x${v.cols} elements, expected a vector of ${n}.`);
  return v;
}
