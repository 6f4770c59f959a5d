import type { Activation, Backend, KvCache, Weight, WeightDType } from '../backend.ts';
import { GptError } from '../../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { CommandRecorder } from './command-recorder.ts';
import { GpuBuffers } from './gpu-buffers.ts';
import { activationBytes, kvLayerBytes } from './gpu-fit.ts';
import { GpuWeight } from './gpu-weight.ts';
import { GpuActivation, GpuKvCache, need } from './gpu-tensors.ts';
import { isCpuBackedDevice } from './device.ts';
import { KERNELS, KEYS_PER_SPLIT, MAX_HEAD_SIZE, MAX_SPLITS, matvecKernel, weightKernel, type KernelStyle } from './kernels.ts';
import type { Sampler } from '../sampler.ts';
import { TokenPicker } from './token-picker.ts';

/** Options of {@link WebGpuBackend}. */
export interface WebGpuBackendOptions {
  /**
   * Largest storage binding to use for a weight, in bytes; weights above it are split by rows
   * into several buffers. Defaults to the device's maxStorageBufferBindingSize (and never
   * exceeds it or maxBufferSize); tests set it small to exercise the split.
   */
  readonly maxBindingBytes?: number;
  /** Which kernel family to run; defaults to 'serial' on CPU-backed adapters, else 'cooperative'. */
  readonly kernels?: KernelStyle;
  /** Cooperative style: decode matvec rows summed by subgroups; default: the device has `subgroups`. */
  readonly subgroups?: boolean;
}

export type { KernelStyle };

/**
 * The WebGPU backend: weights, activations and the KV cache in GPU buffers, every op a WGSL
 * kernel from kernels/. Ops are recorded into one command encoder per forward call and run when
 * {@link read} or {@link flush} submits it. After the first forward call of each shape
 * (warm-up), no op creates a GPU buffer: parameters live in a reused uniform arena, bind groups
 * and pipelines are cached, and the staging buffer keeps the size of the largest read.
 *
 * Matrix weights stay in their checkpoint dtype (f16 / bf16 unpacked in the shader). Matmul needs
 * the input width to be a multiple of 4 (vectorised loads); every checkpoint we load has that.
 * It checks only what is its own (binding limits, those widths, a lost device) and trusts the
 * rest: run it behind checkedBackend (../checked-backend.ts), as createBackend does.
 */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu';
  /** The kernel family this backend runs (see {@link KernelStyle}). */
  readonly kernels: KernelStyle;
  /** Whether the cooperative decode matvec reduces with subgroups (see WebGpuBackendOptions.subgroups). */
  readonly subgroups: boolean;
  private readonly recorder: CommandRecorder;
  private readonly picker: TokenPicker; // readArgmax and readSample
  private readonly maxBindingBytes: number;
  private readonly buffers: GpuBuffers; // every buffer but the weights' and the uniforms'
  private readonly weights: GpuWeight[] = [];
  private weightBytes = 0;
  private readonly empty: GPUBuffer; // bound where a kernel's optional input is absent
  private embedCalls = 0; // embeds recorded since the last submit: each takes its own ids buffer
  private reading = false;
  private lostReason: string | null = null;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    options: WebGpuBackendOptions = {},
  ) {
    const limits = device.limits;
    this.maxBindingBytes = Math.min(options.maxBindingBytes ?? Infinity, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.kernels = options.kernels ?? (isCpuBackedDevice(device) ? 'serial' : 'cooperative');
    this.subgroups = options.subgroups ?? device.features.has('subgroups');
    need(!this.subgroups || device.features.has('subgroups'), "subgroups: this GPU device was created without the 'subgroups' feature.");
    this.buffers = new GpuBuffers(device);
    this.recorder = new CommandRecorder(device);
    this.empty = this.buffers.create('empty', 16, GPUBufferUsage.STORAGE);
    this.picker = new TokenPicker(this.recorder, this.buffers, this.kernels, (src, bytes, take) => this.readBack(src, bytes, take));
    device.lost.then((info) => {
      this.lostReason = info.message || info.reason || 'unknown reason';
    });
  }

  /**
   * Bytes of GPU memory this backend holds: weights, activations, the KV cache, the rotary table,
   * token ids, the staging buffer and the uniform arena. For benchmarks and memory reports.
   */
  get bytesAllocated(): number {
    return this.weightBytes + this.buffers.bytes + this.recorder.bytesAllocated;
  }

  /** True once the GPU device was lost; every op then throws GptError 'device-lost'. */
  get lost(): boolean {
    return this.lostReason !== null;
  }

  /**
   * Compiles every kernel and resolves with the WGSL compiler's errors as `file:line:col message`
   * lines (empty when all is well). For tests and diagnostics; ops compile kernels on first use.
   */
  compileErrors(): Promise<string[]> {
    return this.recorder.pipelines.compileAll();
  }

  // ---- allocation ----

  createWeight(name: string, rows: number, cols: number, dtype: WeightDType): Weight {
    this.check();
    const w = this.buffers.allocations.around(
      `weight "${name}"`,
      () => new GpuWeight(this.device, name, rows, cols, dtype, this.maxBindingBytes),
      (made) => made.parts.reduce((n, p) => n + p.buffer.size, 0),
    );
    this.weights.push(w);
    for (const part of w.parts) this.weightBytes += part.buffer.size;
    return w;
  }

  writeWeight(w: Weight, offset: number, bytes: Uint8Array): void {
    this.check();
    (w as GpuWeight).write(this.device.queue, offset, bytes);
  }

  createActivation(rows: number, cols: number): Activation {
    this.check();
    const bytes = activationBytes(rows, cols);
    this.buffers.fitsBinding(bytes, `An activation of (${rows}, ${cols}) floats`);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return new GpuActivation(rows, cols, this.buffers.create(`activation (${rows}, ${cols})`, bytes, usage));
  }

  createKvCache(L: number, S: number, width: number): KvCache {
    this.check();
    this.buffers.fitsBinding(kvLayerBytes(S, width), `One layer of the KV cache (${S} positions x ${width} floats)`);
    const usage = GPUBufferUsage.STORAGE;
    const k: GPUBuffer[] = [];
    const v: GPUBuffer[] = [];
    for (let l = 0; l < L; l++) {
      k.push(this.buffers.create(`k cache layer ${l}`, kvLayerBytes(S, width), usage));
      v.push(this.buffers.create(`v cache layer ${l}`, kvLayerBytes(S, width), usage));
    }
    return new GpuKvCache(L, S, width, k, v);
  }

  // ---- ops ----

  embed(out: Activation, ids: Int32Array, T: number, tokEmb: Weight, posEmb: Weight | null, pos0: number): void {
    this.check();
    const o = out as GpuActivation;
    const tok = tokEmb as GpuWeight;
    const pos = posEmb as GpuWeight | null;
    const C = tok.cols;
    const idsBuffer = this.buffers.idsBuffer(this.embedCalls++, T);
    this.device.queue.writeBuffer(idsBuffer, 0, ids, 0, T);
    const [tokKernel, tokType] = weightKernel(KERNELS.embedRows, tok.gpuDtype);
    for (const part of tok.parts) {
      this.recorder.dispatch(
        tokKernel,
        { ...tokType, ADD: 0 },
        [o.buffer, idsBuffer, part.buffer],
        { u32: [T, C, part.row0, part.rows, 0, 1] },
        [C, T],
      );
    }
    const [posKernel, posType] = weightKernel(KERNELS.embedRows, pos?.gpuDtype ?? 'f32');
    for (const part of pos?.parts ?? []) {
      this.recorder.dispatch(
        posKernel,
        { ...posType, ADD: 1 },
        [o.buffer, idsBuffer, part.buffer],
        { u32: [T, C, part.row0, part.rows, pos0, 0] },
        [C, T],
      );
    }
  }

  layerNorm(out: Activation, inp: Activation, weight: Weight, bias: Weight, T: number, eps: number): void {
    this.norm(out, inp, null, weight, bias, T, eps);
  }

  rmsNorm(out: Activation, inp: Activation, weight: Weight, T: number, eps: number): void {
    this.norm(out, inp, null, weight, null, T, eps);
  }

  addNorm(out: Activation, x: Activation, inp: Activation, weight: Weight, bias: Weight | null, T: number, eps: number): void {
    this.norm(out, x, inp, weight, bias, T, eps);
  }

  // out = norm(x), after x += add when `add` is given: one kernel (see rms-norm.wgsl)
  private norm(out: Activation, x: Activation, add: Activation | null, weight: Weight, bias: Weight | null, T: number, eps: number): void {
    this.check();
    const o = (out as GpuActivation).buffer;
    const xs = (x as GpuActivation).buffer;
    const res = add ? (add as GpuActivation).buffer : this.empty;
    const ADD = add ? 1 : 0;
    const C = x.cols;
    const serial = this.kernels === 'serial';
    if (bias === null) {
      const buffers = [o, xs, res, vector(weight)];
      if (serial) this.recorder.dispatch(KERNELS.rmsNormPerRow, { ADD }, buffers, { u32: [T, C], f32: [eps] }, [T]);
      else this.recorder.dispatch(KERNELS.rmsNorm, { ADD }, buffers, { u32: [C], f32: [eps] }, [T]);
    } else {
      const buffers = [o, xs, res, vector(weight), vector(bias)];
      if (serial) this.recorder.dispatch(KERNELS.layerNormPerRow, { ADD }, buffers, { u32: [T, C], f32: [eps] }, [T]);
      else this.recorder.dispatch(KERNELS.layerNorm, { ADD }, buffers, { u32: [C], f32: [eps] }, [T]);
    }
  }

  matmul(out: Activation, inp: Activation, w: Weight, bias: Weight | null, T: number): void {
    this.check();
    const o = out as GpuActivation;
    const x = inp as GpuActivation;
    const wt = w as GpuWeight;
    const I = wt.cols;
    need(I % 4 === 0, `matmul: weight '${wt.name}' has ${I} columns; the WebGPU kernels need a multiple of 4. Hint: use the CPU engine for this model.`);
    const b = bias ? vector(bias) : this.empty;
    // decode (T = 1) takes a matvec kernel, prefill a matmul one; the grid is (outputs, tokens)
    const serial = this.kernels === 'serial';
    const base = T === 1 ? matvecKernel(this.kernels, this.subgroups) : serial ? KERNELS.matmulPerRow : KERNELS.matmulTiled;
    const [kernel, dtype] = weightKernel(base, wt.gpuDtype);
    for (const part of wt.parts) {
      const buffers = [o.buffer, x.buffer, part.buffer, b];
      const hasBias = bias ? 1 : 0;
      if (T === 1) this.recorder.dispatch(kernel, dtype, buffers, { u32: [I / 4, part.rows, part.row0, hasBias] }, [part.rows]);
      else this.recorder.dispatch(kernel, dtype, buffers, { u32: [T, I / 4, part.rows, part.row0, o.cols, hasBias] }, [part.rows, T]);
    }
  }

  attention(out: Activation, qkv: Activation, kv: KvCache, layer: number, T: number, pos0: number, cfg: ModelConfig): void {
    this.check();
    const o = out as GpuActivation;
    const a = qkv as GpuActivation;
    const cache = kv as GpuKvCache;
    const { H, Hkv, D } = cfg;
    const width = Hkv * D;
    need(D <= MAX_HEAD_SIZE, `attention: head size ${D} is above the ${MAX_HEAD_SIZE} the WebGPU kernel supports. Hint: use the CPU engine for this model.`);
    const k = cache.k[layer];
    const v = cache.v[layer];
    // rotate q and k (RoPE) and store this call's keys and values, then attend over the cache
    // (dispatches in a pass are ordered)
    const rope = cfg.position === 'rope';
    const table = rope ? this.buffers.ropeTable(cfg, pos0 + T) : this.empty;
    const items = rope ? T * (H + Hkv) * (D / 2) + T * width : 2 * T * width;
    this.recorder.dispatch(KERNELS.ropeKvStore, { ROPE: rope ? 1 : 0 }, [k, v, a.buffer, table], { u32: [T, a.cols, H, Hkv, D / 2, pos0] }, [items]);
    const scale = 1 / Math.sqrt(D);
    const n = pos0 + T; // keys the last query sees
    const serial = this.kernels === 'serial' && D % 4 === 0;
    // flash-decoding: a decode step over a long cache splits the keys across workgroups, then one
    // merge (see KEYS_PER_SPLIT); otherwise one workgroup (serial: invocation) per head and token
    const split = T === 1 && n > KEYS_PER_SPLIT;
    const chunk = split ? Math.max(KEYS_PER_SPLIT, Math.ceil(n / MAX_SPLITS)) : 0;
    const splits = split ? Math.ceil(n / chunk) : 0;
    const into = split ? this.buffers.splitScratch(H, D) : o.buffer;
    const SPLIT = split ? 1 : 0;
    if (serial) {
      const u32 = [T, a.cols / 4, H, Hkv, D / 4, pos0, chunk, splits];
      this.recorder.dispatch(KERNELS.attentionPerQuery, { SPLIT }, [into, a.buffer, k, v], { u32, f32: [scale] }, [H * (split ? splits : T)]);
    } else {
      const u32 = [a.cols, H, Hkv, D, pos0, chunk, splits];
      this.recorder.dispatch(KERNELS.attention, { SPLIT }, [into, a.buffer, k, v], { u32, f32: [scale] }, [H, split ? splits : T]);
    }
    if (split) this.recorder.dispatch(KERNELS.attentionCombine, {}, [o.buffer, into], { u32: [H, D, splits] }, [H * D]);
  }

  gelu(out: Activation, inp: Activation, T: number): void {
    this.check();
    const o = out as GpuActivation;
    const x = inp as GpuActivation;
    this.recorder.dispatch(KERNELS.gelu, {}, [o.buffer, x.buffer], { u32: [T * x.cols] }, [T * x.cols]);
  }

  swiglu(out: Activation, inp: Activation, w: Weight, scratch: Activation, T: number): void {
    this.check();
    const wt = w as GpuWeight;
    const o = out as GpuActivation;
    const I = wt.cols;
    if (T > 1 || wt.parts.length > 1 || I % 4 !== 0) {
      // prefill (or a weight split across buffers): the matmul, then silu(gate) * up
      this.matmul(scratch, inp, w, null, T);
      const s = scratch as GpuActivation;
      this.recorder.dispatch(KERNELS.siluMul, {}, [o.buffer, s.buffer], { u32: [T, o.cols] }, [T * o.cols]);
      return;
    }
    // decode: one matvec whose workgroups read gate and up rows side by side (GATED, see matvec.wgsl)
    const [kernel, dtype] = weightKernel(matvecKernel(this.kernels, this.subgroups), wt.gpuDtype);
    const part = wt.parts[0];
    const buffers = [o.buffer, (inp as GpuActivation).buffer, part.buffer, this.empty];
    this.recorder.dispatch(kernel, { ...dtype, GATED: 1 }, buffers, { u32: [I / 4, part.rows, 0, 0] }, [part.rows]);
  }

  addInPlace(out: Activation, inp: Activation, T: number): void {
    this.check();
    const o = out as GpuActivation;
    const x = inp as GpuActivation;
    this.recorder.dispatch(KERNELS.addInPlace, {}, [o.buffer, x.buffer], { u32: [T * x.cols] }, [T * x.cols]);
  }

  copyRows(out: Activation, inp: Activation, srcRow: number, n: number): void {
    this.check();
    const x = inp as GpuActivation;
    this.recorder.copy(x.buffer, srcRow * x.cols * 4, (out as GpuActivation).buffer, 0, n * x.cols * 4);
  }

  // ---- results ----

  async read(act: Activation, rows: number, into: Float32Array): Promise<void> {
    this.check();
    const a = act as GpuActivation;
    await this.readBack(a.buffer, rows * a.cols * 4, (mapped) => into.set(new Float32Array(mapped)));
  }

  async readArgmax(act: Activation): Promise<{ index: number; value: number }> {
    this.check();
    const a = act as GpuActivation;
    return this.picker.argmax(a.buffer, a.cols);
  }

  async readSample(act: Activation, sampler: Sampler, random: number): Promise<number> {
    this.check();
    const a = act as GpuActivation;
    return this.picker.sample(a.buffer, a.cols, sampler, random);
  }

  // Runs what was recorded, with a copy of `bytes` of `src` into the staging buffer, and hands
  // the mapped bytes to `take` (valid only during the call).
  private async readBack<T>(src: GPUBuffer, bytes: number, take: (mapped: ArrayBuffer) => T): Promise<T> {
    need(!this.reading, 'read: another read is still in flight. Hint: await each read before the next.');
    this.reading = true;
    try {
      const staging = this.buffers.stagingBuffer(bytes);
      this.recorder.copy(src, 0, staging, 0, bytes);
      await this.submit();
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      } catch (err) {
        this.check();
        throw new GptError('internal', `read: mapping the staging buffer failed (${err instanceof Error ? err.message : String(err)}).`);
      }
      const result = take(staging.getMappedRange(0, bytes));
      staging.unmap();
      return result;
    } finally {
      this.reading = false;
    }
  }

  async flush(): Promise<void> {
    this.check();
    await this.buffers.allocations.check(this.bytesAllocated);
    if (this.recorder.pending) await this.submit();
  }

  async prepare(plan: () => void, onProgress?: (done: number, total: number) => void): Promise<void> {
    this.check();
    // the forward pass's kernels, and those that pick a token after it (greedy and sampled decoding)
    const wanted = [...this.recorder.plan(plan), ...this.picker.pipelines];
    this.embedCalls = 0; // the planned embeds took ids buffers, as a submit would have
    try {
      await this.recorder.pipelines.prepare(wanted, onProgress);
    } catch (err) {
      this.check();
      const compile = await this.recorder.pipelines.compileErrors();
      throw new GptError('internal', `Creating the WebGPU pipelines failed: ${err instanceof Error ? err.message : String(err)}${compile.length ? `\nWGSL errors:\n${compile.join('\n')}` : ''}\nHint: this is a bug in gpt-chat; please report it with this message.`);
    }
  }

  /** Pipelines an op had to create when it ran, because {@link prepare} had not (tests: 0 after load). */
  get pipelinesCreatedOnUse(): number {
    return this.recorder.pipelines.createdOnUseCount;
  }

  /** Dispatches recorded so far (for benchmarks: dispatches per decode step). */
  get dispatchCount(): number {
    return this.recorder.dispatchCount;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.recorder.destroy();
    for (const w of this.weights) w.destroy();
    this.buffers.destroy();
    this.weights.length = 0;
    this.weightBytes = 0;
  }

  // ---- internals ----

  private async submit(): Promise<void> {
    this.embedCalls = 0;
    await this.buffers.allocations.check(this.bytesAllocated); // an invalid buffer would fail the submit less clearly
    try {
      await this.recorder.submit();
    } catch (err) {
      this.check(); // a loss explains the failure better than the validation error it caused
      throw err;
    }
    this.check();
  }

  // The one fault of the Backend contract that only a GPU has.
  private check(): void {
    if (this.lostReason !== null) {
      throw new GptError('device-lost', `The GPU device was lost (${this.lostReason}). Load the model again to recover.`);
    }
  }
}

// The f32 buffer of a (1, n) weight (vectors are widened to f32 on write, see GpuWeight).
function vector(w: Weight): GPUBuffer {
  return (w as GpuWeight).parts[0].buffer;
}
