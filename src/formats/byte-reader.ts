/**
 * Exact-length reads over a stream of chunks of any size (a file from disk, an HTTP body, chunks
 * from the IndexedDB cache). Parsers ask for the bytes they need next; only those and the current
 * chunk are held, never the whole file.
 *
 * Two ways to read: {@link ByteReader.read} / {@link ByteReader.skip} (async, any length), and for
 * parsers of many small fields (a GGUF vocabulary is ~300k strings) {@link ByteReader.fill} once,
 * then synchronous {@link ByteReader.take}s: an `await` per field would cost more than the parse.
 */
export class ByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  /** Bytes handed out or skipped so far: the file offset of the next byte. */
  position = 0;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Bytes that {@link take} can hand out without waiting. */
  get buffered(): number {
    return this.chunk.byteLength;
  }

  /**
   * Makes at least n bytes available to {@link take}, joining chunks when a field straddles two.
   * False when the stream ends first. The caller bounds n (by the file size) before asking.
   */
  async fill(n: number): Promise<boolean> {
    while (this.chunk.byteLength < n) {
      const r = await this.it.next();
      if (r.done) return false;
      if (this.chunk.byteLength === 0) {
        this.chunk = r.value;
      } else {
        const joined = new Uint8Array(this.chunk.byteLength + r.value.byteLength);
        joined.set(this.chunk);
        joined.set(r.value, this.chunk.byteLength);
        this.chunk = joined;
      }
    }
    return true;
  }

  /** The next n bytes as a view into the buffer (valid until the next read); n <= {@link buffered}. */
  take(n: number): Uint8Array {
    if (n > this.chunk.byteLength) throw new RangeError(`ByteReader.take(${n}) with ${this.chunk.byteLength} bytes buffered`);
    const view = this.chunk.subarray(0, n);
    this.chunk = this.chunk.subarray(n);
    this.position += n;
    return view;
  }

  /** The next n bytes as a view without consuming them; n <= {@link buffered}. */
  peek(n: number): Uint8Array {
    if (n > this.chunk.byteLength) throw new RangeError(`ByteReader.peek(${n}) with ${this.chunk.byteLength} bytes buffered`);
    return this.chunk.subarray(0, n);
  }

  /**
   * The next n bytes: a view into the current chunk when they lie inside it and start on an
   * 8-byte boundary of its buffer (so typed arrays of any element size can view them), else a
   * fresh array as {@link read}. A view stays valid: chunks are never written after they are
   * handed over. Saves a copy of each large tensor, which is most of a model's bytes.
   */
  async view(n: number, onBytes?: (n: number) => void): Promise<Uint8Array | null> {
    if (this.chunk.byteLength === 0 && !(await this.next())) return null;
    if (n > this.chunk.byteLength || this.chunk.byteOffset % 8 !== 0) return this.read(n, onBytes);
    onBytes?.(n);
    return this.take(n);
  }

  /** The next n bytes in a fresh array, or null when the stream ends first. */
  async read(n: number, onBytes?: (n: number) => void): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.chunk.byteLength === 0 && !(await this.next())) return null;
      const take = Math.min(n - filled, this.chunk.byteLength);
      out.set(this.chunk.subarray(0, take), filled);
      this.chunk = this.chunk.subarray(take);
      filled += take;
      this.position += take;
      onBytes?.(take);
    }
    return out;
  }

  /** Drops n bytes; false when the stream ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.chunk.byteLength === 0 && !(await this.next())) return false;
      const take = Math.min(n, this.chunk.byteLength);
      this.chunk = this.chunk.subarray(take);
      this.position += take;
      n -= take;
    }
    return true;
  }

  private async next(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.chunk = r.value;
    return true;
  }
}
