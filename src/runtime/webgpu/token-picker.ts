import { noTokenPossible, type Sampler } from '../sampler.ts';
import type { CommandRecorder } from './command-recorder.ts';
import type { GpuBuffers } from './gpu-buffers.ts';
import { KERNELS, type Kernel, type KernelStyle, type Overrides } from './kernels.ts';

/**
 * Runs what was recorded, with a copy of `bytes` of `src` into a mapped staging buffer, and hands
 * those bytes to `take` (valid only during the call): the backend's one way back from the GPU.
 */
export type ReadBack = <T>(src: GPUBuffer, bytes: number, take: (mapped: ArrayBuffer) => T) => Promise<T>;

/**
 * The next token chosen on the GPU from row 0 of the logits, behind the forward pass in the same
 * submit, so that a decode step reads back 8 bytes instead of V floats. Greedy: one workgroup
 * finds the argmax (kernels/argmax.wgsl). Sampled: three one-workgroup kernels, top-k's cut
 * (top-k-cut.wgsl), temperature and top-p's (top-p-cut.wgsl), then min-p and the draw
 * (draw-token.wgsl), the same token as runtime/sampler.ts picks from the same logits and random
 * number. Owns those kernels' buffers (made through the backend's {@link GpuBuffers}, so counted
 * and destroyed with its others) and their parameters.
 */
export class TokenPicker {
  private result: GPUBuffer | null = null; // (2) u32: the picked id, the largest logit's f32 bits
  private cut: GPUBuffer | null = null; // (6) u32: sampling's cuts, from top-k-cut.wgsl to draw-token.wgsl
  private weights: GPUBuffer | null = null; // (V) f32: sampling's unnormalised probabilities (top-p-cut.wgsl)

  /**
   * @param style the backend's kernel style: 'serial' (a CPU-backed adapter) gets narrow sampling workgroups.
   * @param readBack submits and reads a result back (WebGpuBackend's, which guards one read at a time).
   */
  constructor(
    private readonly recorder: CommandRecorder,
    private readonly buffers: GpuBuffers,
    private readonly style: KernelStyle,
    private readonly readBack: ReadBack,
  ) {}

  /** Every pipeline the picks dispatch, for Backend.prepare: nothing compiles at the first token. */
  get pipelines(): { kernel: Kernel; overrides: Overrides }[] {
    return [
      { kernel: KERNELS.argmax, overrides: {} },
      ...[KERNELS.topKCut, KERNELS.topPCut, KERNELS.drawToken].map((kernel) => ({ kernel, overrides: this.samplingWorkgroup })),
    ];
  }

  /** The largest of the V floats of `logits` (row 0) and its index, ties to the lowest (Backend.readArgmax). */
  async argmax(logits: GPUBuffer, V: number): Promise<{ index: number; value: number }> {
    const result = this.resultBuffer();
    this.recorder.dispatch(KERNELS.argmax, {}, [result, logits], { u32: [V] }, [1]);
    return this.readBack(result, 8, (mapped) => ({ index: new Uint32Array(mapped)[0], value: new Float32Array(mapped)[1] }));
  }

  /**
   * The token `sampler` draws from the V logits of `logits` (row 0) with the uniform number
   * `random` (Backend.readSample). Throws GptError 'internal' when no logit is finite.
   */
  async sample(logits: GPUBuffer, V: number, sampler: Sampler, random: number): Promise<number> {
    const result = this.resultBuffer();
    this.cut ??= this.buffers.create('sampling cut', 6 * 4, GPUBufferUsage.STORAGE);
    this.weights = this.buffers.grow(this.weights, 'sampling weights', V * 4, GPUBufferUsage.STORAGE);
    // masses are compared in double-f32 (see kernels/sample-common.wgsl), so these go as two f32s
    const topP = doubleF32(sampler.topP);
    const u32 = [V, 0]; // then 8-byte aligned double-f32 parameters
    const wg = this.samplingWorkgroup;
    this.recorder.dispatch(KERNELS.topKCut, wg, [this.cut, logits], { u32: [V, sampler.topK] }, [1]);
    this.recorder.dispatch(KERNELS.topPCut, wg, [this.cut, this.weights, logits], { u32: [V], f32: [1 / sampler.temperature, ...topP] }, [1]);
    this.recorder.dispatch(KERNELS.drawToken, wg, [result, this.cut, this.weights, logits], { u32, f32: [...doubleF32(random), ...doubleF32(sampler.minP)] }, [1]);
    const { index, top } = await this.readBack(result, 8, (mapped) => ({ index: new Uint32Array(mapped)[0], top: new Float32Array(mapped)[1] }));
    if (!(top > -Infinity)) throw noTokenPossible('WebGpuBackend.readSample');
    return index;
  }

  // The sampling kernels' workgroup: the table's 256 threads, or 4 on a CPU-backed adapter, which
  // runs a workgroup's threads as coroutines switched at each of the kernels' ~700 barriers: with
  // 256, sampled decode of a 2-layer fixture (V ~400) fell from ~75 to ~10 tok/s on SwiftShader;
  // with 4 (one SIMD group there) it stays near the readback path's (noisy, shared machine).
  private get samplingWorkgroup(): Overrides {
    return this.style === 'serial' ? { WG: 4 } : {};
  }

  // Where argmax.wgsl and draw-token.wgsl write the picked id and the largest logit (8 bytes).
  private resultBuffer(): GPUBuffer {
    this.result ??= this.buffers.create('picked token', 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    return this.result;
  }
}

// x as hi + lo, two f32s (a double-f32 number): 48 bits, every bit of a 32-bit random draw
function doubleF32(x: number): [number, number] {
  const hi = Math.fround(x);
  return [hi, Math.fround(x - hi)];
}
