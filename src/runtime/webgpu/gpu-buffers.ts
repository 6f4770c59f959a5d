import { GptError } from '../../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { AllocationWatch } from './allocation-watch.ts';
import { ropeTableBytes } from './gpu-fit.ts';
import { roundUp } from './gpu-weight.ts';
import { MAX_SPLITS } from './kernels.ts';
import { RopeTable } from './rope-table.ts';

/**
 * The GPU buffers a WebGpuBackend owns besides its weights: each created inside an out-of-memory
 * scope ({@link AllocationWatch}) and counted, for `bytesAllocated` and for one destroy. Also
 * the buffers reused from call to call, each grown to the largest size asked so far: token ids,
 * the rotary tables, flash-decoding's partial results and the staging buffer of reads (the token
 * picker's are its own, see token-picker.ts, made here with {@link create} and {@link grow}).
 */
export class GpuBuffers {
  readonly allocations: AllocationWatch;
  private owned = new Set<GPUBuffer>();
  private ownedBytes = 0;
  private readonly ids: GPUBuffer[] = []; // (Tmax) i32, one per embed call of a submit
  private ropeTables = new WeakMap<Float32Array, RopeTable>(); // by cfg.ropeInvFreq
  private split: GPUBuffer | null = null;
  private staging: GPUBuffer | null = null;

  constructor(private readonly device: GPUDevice) {
    this.allocations = new AllocationWatch(device);
  }

  /** Bytes of the live buffers created here. */
  get bytes(): number {
    return this.ownedBytes;
  }

  /** A new buffer of at least `bytes` (rounded up to 16), destroyed with the others. */
  create(label: string, bytes: number, usage: number): GPUBuffer {
    const size = roundUp(Math.max(bytes, 4), 16);
    const buffer = this.allocations.around(`the ${label} buffer`, () => this.device.createBuffer({ label, size, usage }), () => size);
    this.adopt(buffer);
    return buffer;
  }

  /**
   * `buffer` when it holds `bytes`, else a new buffer of at least that size made by {@link create}
   * (`buffer`, when there was one, destroyed): a scratch buffer grown to the largest size asked.
   */
  grow(buffer: GPUBuffer | null, label: string, bytes: number, usage: number): GPUBuffer {
    if (buffer && buffer.size >= bytes) return buffer;
    if (buffer) this.drop(buffer);
    return this.create(label, bytes, usage);
  }

  /** Throws GptError 'bad-argument' when `bytes` cannot be bound as one storage buffer. */
  fitsBinding(bytes: number, what: string): void {
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GptError('bad-argument', `${what} takes ${bytes} bytes, above this GPU's largest storage binding (${limit} bytes). Hint: use a shorter context or fewer tokens per forward call.`);
    }
  }

  /**
   * The ids buffer of the `call`-th embed of a submit, room for T ids. One per embed call: queue
   * writes land before the whole command buffer runs, so two embeds in one submit must not share one.
   */
  idsBuffer(call: number, T: number): GPUBuffer {
    if (!this.ids[call] || this.ids[call].size < T * 4) {
      this.ids[call] = this.create(`token ids ${call}`, roundUp(Math.max(T, 64) * 4, 256), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    }
    return this.ids[call];
  }

  /** The rotary table of `cfg`, written up to position `end` - 1. */
  ropeTable(cfg: ModelConfig, end: number): GPUBuffer {
    let table = this.ropeTables.get(cfg.ropeInvFreq);
    if (!table) {
      this.fitsBinding(ropeTableBytes(cfg), `The rotary table of ${cfg.maxPositions} positions`);
      table = new RopeTable(this.device, cfg.ropeInvFreq, cfg.maxPositions);
      this.ropeTables.set(cfg.ropeInvFreq, table);
      this.adopt(table.buffer);
    }
    table.ensure(this.device.queue, end);
    return table.buffer;
  }

  /** (H, MAX_SPLITS, D + 4) partial attention results of flash-decoding. */
  splitScratch(H: number, D: number): GPUBuffer {
    const bytes = H * MAX_SPLITS * (D + 4) * 4;
    if (!this.split || this.split.size < bytes) this.split = this.create('attention splits', bytes, GPUBufferUsage.STORAGE);
    return this.split;
  }

  /** A MAP_READ buffer of at least `bytes`, the one before it destroyed when it was smaller. */
  stagingBuffer(bytes: number): GPUBuffer {
    this.staging = this.grow(this.staging, 'staging', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    return this.staging;
  }

  /** Destroys every buffer created here. */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.ownedBytes = 0;
    this.ropeTables = new WeakMap();
  }

  private adopt(buffer: GPUBuffer): void {
    this.owned.add(buffer);
    this.ownedBytes += buffer.size;
  }

  private drop(buffer: GPUBuffer): void {
    buffer.destroy();
    this.owned.delete(buffer);
    this.ownedBytes -= buffer.size;
  }
}
