import { GptError } from '../errors.ts';
import { GGML_LAYOUTS, rowBytes } from './ggml-types.ts';

/**
 * Writing GGUF (the layout formats/gguf.ts reads): the header of a file whose tensors are known
 * by shape and type before their bytes are, so a writer can stream the data after it. Only the
 * metadata types gpt-chat writes itself (strings and uint32); tools/gguf-writer.mjs writes every
 * type, and malformed files, for the tests.
 */

/** One tensor of the table: ggml type id and dims in ggml order (row length first). */
export interface GgufTensorSpec {
  readonly name: string;
  readonly type: number;
  readonly dims: readonly number[];
}

/** A header laid out: its bytes (padded to the alignment) and each tensor's data range. */
export interface GgufLayout {
  readonly header: Uint8Array;
  /** Byte offset of each tensor in the data, in the order given. */
  readonly offsets: readonly number[];
  /** Bytes of each tensor. */
  readonly sizes: readonly number[];
  /** Bytes of the data section, the last tensor padded to the alignment. */
  readonly dataBytes: number;
}

const ALIGNMENT = 32;
const STRING = 8;
const UINT32 = 4;

/**
 * The header of a version 3 GGUF file with `metadata` (a string or a uint32 per key) and
 * `tensors` packed in the order given, each at an aligned offset.
 */
export function ggufLayout(metadata: readonly (readonly [string, string | number])[], tensors: readonly GgufTensorSpec[]): GgufLayout {
  const enc = new TextEncoder();
  const out = new Writer();
  out.bytes(enc.encode('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(enc.encode(key));
    if (typeof value === 'string') {
      out.u32(STRING);
      out.string(enc.encode(value));
    } else {
      out.u32(UINT32);
      out.u32(value);
    }
  }
  const offsets: number[] = [];
  const sizes: number[] = [];
  let at = 0;
  for (const t of tensors) {
    const layout = GGML_LAYOUTS.get(t.type);
    const perRow = layout ? rowBytes(layout, t.dims[0]!) : null;
    if (perRow === null) throw new GptError('internal', `ggufLayout: tensor ${t.name} of ggml type ${t.type} cannot have rows of ${t.dims[0]} elements.`);
    const size = perRow * t.dims.slice(1).reduce((a, b) => a * b, 1);
    out.string(enc.encode(t.name));
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(t.type);
    out.u64(at);
    offsets.push(at);
    sizes.push(size);
    at = align(at + size);
  }
  return { header: out.finish(align(out.length)), offsets, sizes, dataBytes: at };
}

const align = (n: number): number => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

/** Little-endian bytes appended to a growing buffer. */
class Writer {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  length = 0;

  #room(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
    grown.set(this.#buf.subarray(0, this.length));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }

  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.length, v, true);
    this.length += 4;
  }

  u64(v: number): void {
    this.#room(8);
    this.#view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }

  string(b: Uint8Array): void {
    this.u64(b.length);
    this.bytes(b);
  }

  /** The bytes written, zero-padded to `size`. */
  finish(size: number): Uint8Array {
    const out = new Uint8Array(size);
    out.set(this.#buf.subarray(0, this.length));
    return out;
  }
}
