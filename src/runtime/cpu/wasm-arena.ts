/**
 * The memory of the CPU backend's WebAssembly kernels. A SIMD kernel can only read what lies in
 * its linear memory, so the backend takes every weight, activation and KV cache from one
 * WebAssembly.Memory: allocations happen at load time only, each grows the memory by what it
 * needs, and nothing is ever freed one by one (the backend drops the whole arena on destroy).
 *
 * Growing detaches the old ArrayBuffer and with it every Float32Array over it, so arrays are
 * handed out as {@link F32Slot}s (and {@link U16Slot}s for 16-bit weights, {@link U8Slot}s for
 * block-quantized ones) whose `view` the arena
 * rebuilds after each growth. Only the byte offset is stable; that is what the kernels are passed.
 */

/** Bytes of one WebAssembly page. */
const PAGE = 65536;
/**
 * Every array starts on a 64-byte boundary: a cache line, so a row does not straddle one more line
 * than it must, and 16-byte aligned for the f32x4 loads. Offset 0 is kept free so that a kernel
 * can take 0 to mean "no array" (a missing bias).
 */
const ALIGN = 64;

/**
 * A float32 array (length) at a fixed place: `byteOffset` in the arena's memory, or -1 for an
 * ordinary Float32Array on the JavaScript heap (the pure-TS path, or an arena that was full).
 */
export class F32Slot {
  constructor(
    readonly byteOffset: number,
    readonly length: number,
    public view: Float32Array, // (length), rebuilt by the arena when its memory grows
  ) {}

  /** A slot on the JavaScript heap, outside any arena. */
  static heap(length: number): F32Slot {
    return new F32Slot(-1, length, new Float32Array(length));
  }
}

/**
 * Raw 16-bit elements (length) at a fixed byte offset in an arena's memory: a bf16 or f16 weight
 * kept as the checkpoint stores it, widened to f32 by the kernels as they read it. Always in an
 * arena (a weight that does not fit there is widened to an f32 heap slot instead).
 */
export class U16Slot {
  constructor(
    readonly byteOffset: number,
    readonly length: number,
    public view: Uint16Array, // (length), rebuilt by the arena when its memory grows
  ) {}
}

/**
 * Raw bytes (length) at a fixed byte offset: a block-quantized weight (Q8_0, Q4_0, Q4_K, Q6_K) as
 * ggml lays it out, read by the quantized matmul kernels; or scratch for them. `byteOffset` -1 for
 * bytes on the JavaScript heap (the pure-TS path, or an arena that was full).
 */
export class U8Slot {
  constructor(
    readonly byteOffset: number,
    readonly length: number,
    public view: Uint8Array, // (length), rebuilt by the arena when its memory grows
  ) {}

  /** A slot on the JavaScript heap, outside any arena. */
  static heap(length: number): U8Slot {
    return new U8Slot(-1, length, new Uint8Array(length));
  }
}

/** A bump allocator over one growable WebAssembly.Memory. */
export class WasmArena {
  readonly memory: WebAssembly.Memory;
  private top = ALIGN; // first free byte; 0 .. ALIGN-1 reserved, see ALIGN
  private slots: (F32Slot | U16Slot | U8Slot)[] = [];

  /**
   * @param maxBytes the most the memory may grow to (rounded down to whole 64 KiB pages, at least
   *   one); unset, the engine's own limit (4 GiB in V8 and SpiderMonkey).
   */
  constructor(maxBytes?: number) {
    const maximum = maxBytes === undefined ? undefined : Math.max(1, Math.floor(maxBytes / PAGE));
    this.memory = new WebAssembly.Memory(maximum === undefined ? { initial: 1 } : { initial: 1, maximum });
  }

  /** Bytes handed out so far, padding included. */
  get bytesUsed(): number {
    return this.top;
  }

  /**
   * A zeroed float32 array of `length` elements in the memory, or null when the memory cannot
   * grow that far (wasm32 addresses stop at 4 GiB; engines may stop earlier): the caller then
   * keeps that array on the heap and the ops on it take the TS path.
   */
  alloc(length: number): F32Slot | null {
    const start = this.reserve(length * 4);
    if (start < 0) return null;
    const slot = new F32Slot(start, length, new Float32Array(this.memory.buffer, start, length));
    this.slots.push(slot);
    return slot;
  }

  /** Like {@link alloc}, for `length` zeroed 16-bit elements (a bf16 or f16 weight). */
  allocU16(length: number): U16Slot | null {
    const start = this.reserve(length * 2);
    if (start < 0) return null;
    const slot = new U16Slot(start, length, new Uint16Array(this.memory.buffer, start, length));
    this.slots.push(slot);
    return slot;
  }

  /** Like {@link alloc}, for `length` zeroed bytes (a block-quantized weight, or kernel scratch). */
  allocBytes(length: number): U8Slot | null {
    const start = this.reserve(length);
    if (start < 0) return null;
    const slot = new U8Slot(start, length, new Uint8Array(this.memory.buffer, start, length));
    this.slots.push(slot);
    return slot;
  }

  // the byte offset of `bytes` fresh bytes, growing the memory as needed; -1 when it cannot grow
  private reserve(bytes: number): number {
    const start = this.top;
    const end = start + bytes;
    const pages = Math.ceil(end / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) {
      try {
        this.memory.grow(pages - have);
      } catch {
        return -1; // RangeError: past the engine's limit, or no memory left
      }
      this.refresh();
    }
    this.top = Math.ceil(end / ALIGN) * ALIGN;
    // Fresh pages are zero, and the arena never reuses memory, so the slot starts zeroed.
    return start;
  }

  /** Empties every view so the memory can be collected even while callers hold the slots. */
  release(): void {
    for (const s of this.slots) {
      if (s instanceof U16Slot) s.view = new Uint16Array(0);
      else if (s instanceof U8Slot) s.view = new Uint8Array(0);
      else s.view = new Float32Array(0);
    }
    this.slots = [];
  }

  // the old buffer was detached by grow(): point every slot at the new one
  private refresh(): void {
    const buffer = this.memory.buffer;
    for (const s of this.slots) {
      if (s instanceof U16Slot) s.view = new Uint16Array(buffer, s.byteOffset, s.length);
      else if (s instanceof U8Slot) s.view = new Uint8Array(buffer, s.byteOffset, s.length);
      else s.view = new Float32Array(buffer, s.byteOffset, s.length);
    }
  }
}
