/**
 * Uniform parameters of every dispatch recorded into one command buffer. queue.writeBuffer lands
 * before the command buffer runs, so two dispatches cannot share a uniform buffer within one
 * submit: each gets its own 256-byte slot (minUniformBufferOffsetAlignment), taken in recording
 * order and handed out again from slot 0 after each submit. Slots live in fixed-size chunks that
 * are never reallocated, so bind groups that point at a slot stay valid, and after the first
 * forward call (warm-up) no buffer is created: the same op order reuses the same slots.
 */
export class UniformArena {
  /** Bytes per slot: the largest minUniformBufferOffsetAlignment the spec allows. */
  static readonly SLOT_BYTES = 256;
  private static readonly SLOTS_PER_CHUNK = 64;

  private readonly chunks: GPUBuffer[] = []; // each (SLOTS_PER_CHUNK * SLOT_BYTES) bytes
  private readonly mirrors: ArrayBuffer[] = []; // CPU copy of each chunk, uploaded at submit
  private used = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Bytes of the chunks created so far. */
  get bytesAllocated(): number {
    return this.chunks.length * UniformArena.SLOTS_PER_CHUNK * UniformArena.SLOT_BYTES;
  }

  /**
   * The next free slot, filled with `u32` then `f32` values in that order (the WGSL `Params`
   * structs put their u32 fields first).
   */
  next(u32: readonly number[], f32: readonly number[] = []): { buffer: GPUBuffer; offset: number } {
    const index = this.used++;
    const chunk = Math.floor(index / UniformArena.SLOTS_PER_CHUNK);
    if (chunk === this.chunks.length) {
      this.chunks.push(
        this.device.createBuffer({
          label: `uniforms ${chunk}`,
          size: UniformArena.SLOTS_PER_CHUNK * UniformArena.SLOT_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
      );
      this.mirrors.push(new ArrayBuffer(UniformArena.SLOTS_PER_CHUNK * UniformArena.SLOT_BYTES));
    }
    const offset = (index % UniformArena.SLOTS_PER_CHUNK) * UniformArena.SLOT_BYTES;
    const u = new Uint32Array(this.mirrors[chunk], offset, u32.length);
    for (let i = 0; i < u32.length; i++) u[i] = u32[i];
    const f = new Float32Array(this.mirrors[chunk], offset + 4 * u32.length, f32.length);
    for (let i = 0; i < f32.length; i++) f[i] = f32[i];
    return { buffer: this.chunks[chunk], offset };
  }

  /** Uploads the slots taken since the last submit (one write per chunk) and frees them all. */
  upload(queue: GPUQueue): void {
    const full = Math.floor(this.used / UniformArena.SLOTS_PER_CHUNK);
    for (let c = 0; c * UniformArena.SLOTS_PER_CHUNK < this.used; c++) {
      const slots = c < full ? UniformArena.SLOTS_PER_CHUNK : this.used % UniformArena.SLOTS_PER_CHUNK;
      queue.writeBuffer(this.chunks[c], 0, this.mirrors[c], 0, slots * UniformArena.SLOT_BYTES);
    }
    this.used = 0;
  }

  destroy(): void {
    for (const chunk of this.chunks) chunk.destroy();
    this.chunks.length = 0;
    this.mirrors.length = 0;
  }
}
