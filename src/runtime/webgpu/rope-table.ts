import { GptError } from '../../errors.ts';
import { roundUp } from './gpu-weight.ts';

/**
 * cos and sin of every rotary angle, (positions, D/2) of (cos, sin) pairs in one GPU buffer,
 * computed on the CPU up to the highest position used so far. Not on the GPU: WGSL's cos and sin
 * are only accurate within [-pi, pi], and positions in the thousands give angles far outside it.
 * Each angle is rounded to f32 before cos and sin, as Hugging Face computes it (and the CPU
 * backend), so both backends rotate by the checkpoint's own angles.
 */
export class RopeTable {
  readonly buffer: GPUBuffer; // (rows, D/2) of vec2<f32> (cos, sin)
  private filled = 0; // rows written so far

  constructor(
    device: GPUDevice,
    private readonly invFreq: Float32Array, // (D/2)
    readonly rows: number, // positions the table can hold: the model's maxPositions
  ) {
    this.buffer = device.createBuffer({
      label: 'rope table',
      size: roundUp(Math.max(rows * invFreq.length * 8, 16), 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
  }

  /** Makes sure positions 0 .. end-1 are written (in steps of 256 rows, so decode rarely writes). */
  ensure(queue: GPUQueue, end: number): void {
    if (end > this.rows) {
      throw new GptError('context-overflow', `rope: position ${end - 1} is past the model's ${this.rows} positions. Hint: shorten the conversation or start a new one.`);
    }
    if (end <= this.filled) return;
    const to = Math.min(this.rows, roundUp(end, 256));
    const half = this.invFreq.length;
    const data = new Float32Array((to - this.filled) * half * 2); // (to - filled, D/2, 2)
    for (let pos = this.filled; pos < to; pos++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(pos * this.invFreq[i]);
        const at = ((pos - this.filled) * half + i) * 2;
        data[at] = Math.cos(angle);
        data[at + 1] = Math.sin(angle);
      }
    }
    queue.writeBuffer(this.buffer, this.filled * half * 8, data);
    this.filled = to;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
