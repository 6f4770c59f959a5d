import { GptError } from '../errors.ts';
import { ByteReader } from './byte-reader.ts';
import { GGML_LAYOUTS, rowBytes, type GgmlBlockLayout } from './ggml-types.ts';
import { GGUF_VALUE_BYTES, GGUF_VALUE_TYPES, GgufMetadata, type GgufArray, type GgufValue, type GgufValueType } from './gguf-metadata.ts';
import type { FileStream } from './model-files.ts';

/**
 * GGUF, llama.cpp's one-file model format (ggml/docs/gguf.md), versions 2 and 3, little-endian:
 *
 *   magic "GGUF", version u32, tensor_count u64, kv_count u64,
 *   kv_count x (key: string, value_type u32, value),
 *   tensor_count x (name: string, n_dims u32, dims u64[n_dims], type u32, offset u64),
 *   padding to `general.alignment` (default 32), then the tensor data;
 *
 * a string is a u64 length and that many UTF-8 bytes; an array is item_type u32, count u64, items.
 * dims are in ggml order (dims[0] is the length of a row). Offsets are relative to the data start.
 *
 * Read from a stream, header first, then one tensor at a time, so a 400 MB file is never held whole.
 * Every count and length is checked against the bytes left in the file before anything is
 * allocated for it; every failure is a GptError ('bad-gguf', or 'unsupported-dtype' for a tensor
 * type we do not read) that names the field.
 */

/** One tensor of the table, validated: a known type, a whole number of blocks per row, in bounds. */
export interface GgufTensorInfo {
  readonly name: string;
  /** ggml type id (enum ggml_type). */
  readonly type: number;
  readonly layout: GgmlBlockLayout;
  /** ggml order: dims[0] is the row length. */
  readonly dims: readonly number[];
  /** PyTorch order (dims reversed): a matrix is [rows, cols]. */
  readonly shape: readonly number[];
  /** Byte range [begin, end) relative to the start of the data. */
  readonly begin: number;
  readonly end: number;
}

/** A tensor with its raw bytes, as yielded by {@link GgufReader.tensorData}. */
export interface GgufTensor extends GgufTensorInfo {
  /**
   * Aligned for typed-array views (8 bytes): a view into the chunk the stream gave when the
   * tensor lies inside one, else a fresh array. Never written by the reader; copy it to change it.
   */
  readonly bytes: Uint8Array;
}

/** A GGUF file whose header has been read; its tensors can then be streamed once. */
export interface GgufReader {
  readonly file: string;
  readonly version: number;
  readonly metadata: GgufMetadata;
  /** Tensors in data order (ascending begin). */
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Byte offset of the data in the file. */
  readonly dataStart: number;
  /** Yields every tensor in data order, each in one Uint8Array; `onBytes` counts data bytes consumed. */
  tensorData(opts?: { signal?: AbortSignal; onBytes?: (n: number) => void }): AsyncGenerator<GgufTensor>;
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4; // GGML_MAX_DIMS
/** The smallest tensor entry: name length 8, n_dims 4, one dim 8, type 4, offset 8. */
const MIN_TENSOR_INFO_BYTES = 32;
/** The smallest key/value: key length 8, value type 4, a one-byte value. */
const MIN_KV_BYTES = 13;

/** ggml types that exist but that we do not read, for messages that name them. */
const OTHER_GGML_TYPES: Readonly<Record<number, string>> = {
  3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 13: 'Q5_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS',
  18: 'IQ3_XXS', 19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64',
  28: 'F64', 29: 'IQ1_M', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

const utf8 = new TextDecoder('utf-8');

function bad(file: string, what: string): GptError {
  return new GptError('bad-gguf', `${file} is not a valid GGUF file: ${what}. Hint: download the file again, or convert the model again with a current llama.cpp.`);
}

/** Field reads over the stream, each bounded by the bytes left in the file before it allocates. */
class HeaderParser {
  constructor(
    readonly r: ByteReader,
    readonly size: number,
    readonly file: string,
  ) {}

  get left(): number {
    return this.size - this.r.position;
  }

  /** Makes n bytes of `what` readable with take, or throws naming it. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.left) throw bad(this.file, `${what} needs ${n} bytes at offset ${this.r.position}, past the end of the ${this.size}-byte file`);
    if (this.r.buffered < n && !(await this.r.fill(n))) {
      throw bad(this.file, `the stream ended before ${what} at offset ${this.r.position} (the file should have ${this.size} bytes)`);
    }
  }

  u32(): number {
    const b = this.r.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  u64(): bigint {
    const lo = BigInt(this.u32());
    return (BigInt(this.u32()) << 32n) | lo;
  }

  async u32Field(what: string): Promise<number> {
    if (this.r.buffered < 4) await this.need(4, what);
    return this.u32();
  }

  /** A u64 count, refused when `count * itemBytes` would not fit in the rest of the file. */
  async count(what: string, itemBytes: number): Promise<number> {
    if (this.r.buffered < 8) await this.need(8, what);
    const n = this.u64();
    const room = Math.floor(this.left / itemBytes);
    if (n > BigInt(room)) {
      throw bad(this.file, `${what} is ${n}, but the ${this.left} bytes left in the file hold at most ${room} (${itemBytes} bytes each at least)`);
    }
    return Number(n);
  }

  /** A string when its length and bytes are already buffered, else null (nothing consumed). */
  stringNow(what: string): string | null {
    if (this.r.buffered < 8) return null;
    const p = this.r.peek(8);
    const hi = (p[4]! | (p[5]! << 8) | (p[6]! << 16) | (p[7]! << 24)) >>> 0;
    const lo = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
    if (hi !== 0 || 8 + lo > this.r.buffered) return null;
    if (8 + lo > this.left) throw this.stringPastEnd(what, BigInt(lo));
    this.r.take(8);
    return utf8.decode(this.r.take(lo));
  }

  async string(what: string): Promise<string> {
    const now = this.stringNow(what);
    if (now !== null) return now;
    await this.need(8, `the length of ${what}`);
    const n = this.u64();
    if (n > BigInt(this.left)) throw this.stringPastEnd(what, n, 8);
    await this.need(Number(n), what);
    return utf8.decode(this.r.take(Number(n)));
  }

  private stringPastEnd(what: string, n: bigint, consumed = 0): GptError {
    const at = this.r.position - consumed;
    return bad(this.file, `${what} at offset ${at} has length ${n}, past the end of the ${this.size}-byte file`);
  }

  /** One metadata value of type id `typeId`. */
  async value(typeId: number, what: string): Promise<GgufValue> {
    const type = GGUF_VALUE_TYPES[typeId];
    if (type === undefined) throw bad(this.file, `${what} has value type ${typeId}, which is not a GGUF type (0..12)`);
    if (type === 'string') return { type, value: await this.string(what) };
    if (type !== 'array') {
      await this.need(GGUF_VALUE_BYTES[type], what);
      return { type, value: this.scalars(type, 1, what)[0]! } as GgufValue;
    }
    const itemTypeId = await this.u32Field(`the item type of ${what}`);
    const itemType = GGUF_VALUE_TYPES[itemTypeId];
    if (itemType === undefined || itemType === 'array') {
      throw bad(this.file, `${what} is an array of type ${itemType ?? itemTypeId}; arrays hold scalars or strings only`);
    }
    const n = await this.count(`the item count of ${what}`, GGUF_VALUE_BYTES[itemType]);
    if (itemType === 'string') {
      const items: string[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = this.stringNow(`${what}[${i}]`) ?? (await this.string(`${what}[${i}]`));
      return { type, itemType, value: items };
    }
    await this.need(n * GGUF_VALUE_BYTES[itemType], what);
    return { type, itemType, value: this.scalars(itemType, n, what) };
  }

  /** n fixed-size values, already buffered. */
  private scalars(type: Exclude<GgufValueType, 'array' | 'string'>, n: number, what: string): GgufArray {
    const size = GGUF_VALUE_BYTES[type];
    // a copy: typed-array views need alignment, and the buffer is reused
    const bytes = this.r.take(n * size).slice();
    const buf = bytes.buffer;
    switch (type) {
      case 'uint8': return bytes;
      case 'int8': return new Int8Array(buf);
      case 'uint16': return new Uint16Array(buf);
      case 'int16': return new Int16Array(buf);
      case 'uint32': return new Uint32Array(buf);
      case 'int32': return new Int32Array(buf);
      case 'float32': return new Float32Array(buf);
      case 'float64': return new Float64Array(buf);
      case 'bool': {
        const out: boolean[] = new Array(n);
        for (let i = 0; i < n; i++) {
          if (bytes[i]! > 1) throw bad(this.file, `${what} holds the bool byte ${bytes[i]}, which is neither 0 nor 1`);
          out[i] = bytes[i] === 1;
        }
        return out;
      }
      case 'uint64':
      case 'int64': {
        const view = new DataView(buf);
        const out: (number | bigint)[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = type === 'uint64' ? view.getBigUint64(8 * i, true) : view.getBigInt64(8 * i, true);
          out[i] = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        }
        return out;
      }
    }
  }
}

/**
 * Reads and validates the header of a streamed GGUF file and returns a reader for its tensors.
 * `file` names the file in error messages.
 */
export async function openGguf(stream: FileStream, file: string): Promise<GgufReader> {
  const r = new ByteReader(stream.chunks[Symbol.asyncIterator]());
  const h = new HeaderParser(r, stream.size, file);
  if (stream.size < 24) throw bad(file, `it is ${stream.size} bytes long, shorter than the 24-byte GGUF header`);
  await h.need(8, 'the magic and version');
  const magic = h.u32();
  if (magic !== MAGIC) {
    const start = [magic & 0xff, (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >>> 24];
    throw bad(file, `it starts with the bytes ${start.map((b) => b.toString(16).padStart(2, '0')).join(' ')}, not the magic "GGUF"`);
  }
  const version = h.u32();
  if (version === 1) throw bad(file, 'it is GGUF version 1 (2023, 32-bit counts), which is not supported; versions 2 and 3 are');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if (swapped === 2 || swapped === 3) throw bad(file, `it is a big-endian GGUF (version ${swapped}); only little-endian files are supported`);
    throw bad(file, `its version is ${version}; versions 2 and 3 are supported`);
  }
  const tensorCount = await h.count('tensor_count', MIN_TENSOR_INFO_BYTES);
  const kvCount = await h.count('metadata_kv_count', MIN_KV_BYTES);

  // ---- metadata ----
  const values = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = await h.string(`the key of metadata entry ${i}`);
    if (values.has(key)) throw bad(file, `metadata key ${key} appears twice`);
    const typeId = await h.u32Field(`the value type of metadata ${key}`);
    values.set(key, await h.value(typeId, `metadata ${key}`));
  }
  const metadata = new GgufMetadata(values, file);
  const alignment = readAlignment(metadata, file);

  // ---- tensor table ----
  const raw: { name: string; type: number; dims: number[]; offset: bigint }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = await h.string(`the name of tensor ${i}`);
    if (names.has(name)) throw bad(file, `tensor ${name} appears twice in the tensor table`);
    names.add(name);
    const nDims = await h.u32Field(`n_dims of tensor ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) throw bad(file, `tensor ${name} has n_dims ${nDims}; ggml tensors have 1 to ${MAX_DIMS}`);
    await h.need(8 * nDims + 4 + 8, `the dims, type and offset of tensor ${name}`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const n = h.u64();
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(file, `tensor ${name} dims[${d}] is ${n}, beyond any real tensor`);
      dims.push(Number(n));
    }
    raw.push({ name, dims, type: h.u32(), offset: h.u64() });
  }
  const headerEnd = r.position;
  const dataStart = Math.ceil(headerEnd / alignment) * alignment;
  const tensors = raw.map((t) => tensorInfo(t, alignment, stream.size - dataStart, file)).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < tensors.length; i++) {
    const [prev, t] = [tensors[i - 1]!, tensors[i]!];
    if (t.begin < prev.end) {
      throw bad(file, `tensor ${t.name} bytes [${t.begin}, ${t.end}) overlap tensor ${prev.name} bytes [${prev.begin}, ${prev.end})`);
    }
  }

  let used = false;
  return {
    file,
    version,
    metadata,
    tensors,
    alignment,
    dataStart,
    async *tensorData(opts = {}) {
      if (used) throw new GptError('internal', `${file}: the tensors of a GGUF stream can be read only once.`);
      used = true;
      if (tensors.length === 0) return;
      if (!(await r.skip(dataStart - headerEnd))) throw bad(file, `the stream ended in the padding before the tensor data at offset ${dataStart}`);
      let pos = 0; // data bytes consumed so far
      for (const t of tensors) {
        if (opts.signal?.aborted) throw new GptError('aborted', `Loading ${file} was aborted.`);
        if (t.begin > pos) {
          if (!(await r.skip(t.begin - pos))) throw truncated(file, t, pos);
          opts.onBytes?.(t.begin - pos);
          pos = t.begin;
        }
        const bytes = await r.view(t.end - t.begin, opts.onBytes);
        if (!bytes) throw truncated(file, t, pos);
        pos = t.end;
        yield { ...t, bytes };
      }
    },
  };
}

function truncated(file: string, t: GgufTensorInfo, pos: number): GptError {
  return bad(file, `the stream ended at data byte ${pos}, before tensor ${t.name} ([${t.begin}, ${t.end})) was complete`);
}

/** `general.alignment`: a uint32 power of two, 32 when absent. */
function readAlignment(metadata: GgufMetadata, file: string): number {
  const v = metadata.get('general.alignment');
  if (v === undefined) return DEFAULT_ALIGNMENT;
  if (v.type !== 'uint32') metadata.fail('general.alignment', 'a uint32', v.type);
  const a = v.value as number;
  if (a === 0 || (a & (a - 1)) !== 0) throw bad(file, `general.alignment is ${a}, not a power of two`);
  return a;
}

/** Validates one tensor entry: known type, whole blocks per row, aligned and inside the data. */
function tensorInfo(t: { name: string; type: number; dims: number[]; offset: bigint }, alignment: number, dataBytes: number, file: string): GgufTensorInfo {
  const layout = GGML_LAYOUTS.get(t.type);
  if (!layout) {
    const known = OTHER_GGML_TYPES[t.type];
    throw new GptError(
      'unsupported-dtype',
      `${file}: tensor ${t.name} has ggml type ${known ?? 'id'} ${known ? `(${t.type})` : t.type}${known ? '' : ', which is not a ggml type we know'}; ` +
        `we read F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K. Hint: pick a Q4_K_M, Q4_0, Q8_0 or F16 file of the model.`,
    );
  }
  const shape = `[${t.dims.join(', ')}] (ggml order)`;
  const perRow = rowBytes(layout, t.dims[0]!);
  if (perRow === null) {
    throw bad(file, `tensor ${t.name} ${shape} is ${layout.name}, but its rows of ${t.dims[0]} elements are not a whole number of ${layout.blockElements}-element blocks`);
  }
  const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const bytes = perRow * rows;
  if (!Number.isSafeInteger(bytes)) throw bad(file, `tensor ${t.name} ${shape} is too large to address`);
  if (t.offset % BigInt(alignment) !== 0n) {
    throw bad(file, `tensor ${t.name} starts at data offset ${t.offset}, not a multiple of the alignment ${alignment}`);
  }
  if (t.offset + BigInt(bytes) > BigInt(Math.max(0, dataBytes))) {
    throw bad(
      file,
      `tensor ${t.name} ${shape} x ${layout.name} needs ${bytes} bytes from data offset ${t.offset}, past the end of the data (${Math.max(0, dataBytes)} bytes)`,
    );
  }
  const begin = Number(t.offset);
  return { name: t.name, type: t.type, layout, dims: t.dims, shape: [...t.dims].reverse(), begin, end: begin + bytes };
}
