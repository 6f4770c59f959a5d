import { GptError } from '../../errors.ts';
import { PipelineCache, type Kernel, type Overrides } from './kernels.ts';
import { UniformArena } from './uniform-arena.ts';

/**
 * Records the dispatches of one forward call into one command encoder and submits them together.
 * Dispatches share one compute pass (WebGPU orders dispatches in a pass and makes each one's
 * storage writes visible to the next), which is closed only for buffer copies and at submit.
 *
 * Nothing here allocates a GPU buffer per dispatch: parameters go to {@link UniformArena} slots,
 * and bind groups are cached by what they bind, so a repeated forward call finds them all.
 *
 * A dispatch costs about 0.04 ms on Dawn + SwiftShader even when pipeline and bind group change
 * every time (200 small dispatches, measured): the ~76 of a llama-15m decode step are ~3 ms of
 * its 75-95 ms, so fusing ops only to save dispatches is not worth a wider Backend interface.
 */
export class CommandRecorder {
  readonly pipelines: PipelineCache;
  private readonly uniforms: UniformArena;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly maxPerDim: number;
  private planned: { kernel: Kernel; overrides: Overrides }[] | null = null; // set while plan() runs
  private dispatches = 0;

  constructor(private readonly device: GPUDevice) {
    this.pipelines = new PipelineCache(device);
    this.uniforms = new UniformArena(device);
    this.maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /**
   * Records `kernel` over a grid of `items` (x, y) with `buffers` bound in the kernel's binding
   * order (outputs first) and a Params uniform of `u32` then `f32` values bound last. The
   * workgroups are ceil(items / kernel.perWorkgroup) in each dimension. A 1-D grid of more than
   * 65535 workgroups is folded into two dimensions for kernels marked `folds`, which index
   * workgroups as `wid.y * nwg.x + wid.x` and skip past the end.
   */
  dispatch(
    kernel: Kernel,
    overrides: Overrides,
    buffers: readonly GPUBuffer[],
    params: { u32: readonly number[]; f32?: readonly number[] },
    items: readonly [number, number?],
  ): void {
    if (buffers.length !== kernel.bindings.length - 1) {
      throw new GptError('internal', `${kernel.file}: ${buffers.length} buffers bound, the kernel declares ${kernel.bindings.length - 1} plus Params.`);
    }
    if (this.planned) {
      this.planned.push({ kernel, overrides });
      return;
    }
    this.dispatches++;
    const uniform = this.uniforms.next(params.u32, params.f32);
    const bindGroup = this.bindGroup(kernel, buffers, uniform);
    const pass = this.computePass();
    pass.setPipeline(this.pipelines.pipeline(kernel, overrides));
    pass.setBindGroup(0, bindGroup);
    let x = Math.ceil(items[0] / kernel.perWorkgroup[0]);
    let y = Math.ceil((items[1] ?? 1) / kernel.perWorkgroup[1]);
    if (x === 0 || y === 0) return;
    if (x > this.maxPerDim || y > this.maxPerDim) {
      if (!kernel.folds || y !== 1) {
        throw new GptError('bad-argument', `${kernel.file}: a grid of ${x} x ${y} workgroups exceeds the GPU's ${this.maxPerDim} per dimension. Hint: the model or batch is too large for this GPU.`);
      }
      y = Math.ceil(x / this.maxPerDim);
      x = this.maxPerDim;
    }
    pass.dispatchWorkgroups(x, y);
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    if (this.planned) return;
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /**
   * The kernels and overrides `record` would dispatch, with nothing recorded: for creating their
   * pipelines ahead (PipelineCache.prepare). `record` runs ops of the backend as usual.
   */
  plan(record: () => void): { kernel: Kernel; overrides: Overrides }[] {
    const planned: { kernel: Kernel; overrides: Overrides }[] = [];
    this.planned = planned;
    try {
      record();
    } finally {
      this.planned = null;
    }
    return planned;
  }

  /** Dispatches recorded since this recorder was made: a counter for benchmarks (dispatches per token). */
  get dispatchCount(): number {
    return this.dispatches;
  }

  /** Bytes of the uniform arena's buffers. */
  get bytesAllocated(): number {
    return this.uniforms.bytesAllocated;
  }

  /** True when something was recorded since the last submit. */
  get pending(): boolean {
    return this.encoder !== null;
  }

  /**
   * Submits what was recorded, then resolves once the GPU has accepted it, rejecting with a
   * GptError that names the kernel and line when validation failed (a WGSL mistake, a binding
   * that does not fit).
   */
  async submit(): Promise<void> {
    const encoder = this.commandEncoder();
    this.endPass();
    this.uniforms.upload(this.device.queue);
    this.device.queue.submit([encoder.finish()]);
    this.encoder = null;
    const oom = await this.device.popErrorScope();
    const invalid = await this.device.popErrorScope();
    if (invalid) {
      const compile = await this.pipelines.compileErrors();
      throw new GptError(
        'internal',
        `WebGPU rejected a command of the forward pass: ${invalid.message}` +
          (compile.length ? `\nWGSL errors:\n${compile.join('\n')}` : '') +
          '\nHint: this is a bug in gpt-chat; please report it with this message.',
      );
    }
    if (oom) {
      throw new GptError('internal', `The GPU ran out of memory (${oom.message}). Hint: close other GPU-heavy tabs or choose a smaller model.`);
    }
  }

  destroy(): void {
    this.encoder = null;
    this.pass = null;
    this.bindGroups.clear();
    this.uniforms.destroy();
  }

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      // Scopes catch this call's mistakes and report them from submit(), with the WGSL messages,
      // instead of as an uncaptured error far from the cause.
      this.device.pushErrorScope('validation');
      this.device.pushErrorScope('out-of-memory');
      this.encoder = this.device.createCommandEncoder({ label: 'forward' });
    }
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private bindGroup(kernel: Kernel, buffers: readonly GPUBuffer[], uniform: { buffer: GPUBuffer; offset: number }): GPUBindGroup {
    const key = `${kernel.bindings.join(',')}|${buffers.map((b) => this.idOf(b)).join(',')}|${this.idOf(uniform.buffer)}@${uniform.offset}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({
        layout: this.pipelines.layout(kernel),
        entries: [
          ...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
          { binding: buffers.length, resource: { buffer: uniform.buffer, offset: uniform.offset, size: UniformArena.SLOT_BYTES } },
        ],
      });
      this.bindGroups.set(key, group);
    }
    return group;
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }
}
