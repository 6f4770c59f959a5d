// A GGUF writer for tests and tools (the format: ggml/docs/gguf.md; what the runtime reads:
// src/formats/gguf.ts). Plain JavaScript with no dependencies, so tools/make-fixtures.mjs can run
// it before anything is built. It writes what it is given: valid files by default, and through the
// overrides (magic, version, counts, offsets) the malformed ones of the error tests.

/** gguf_type ids of metadata values. */
export const GGUF_TYPE = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
};

/** ggml_type ids of tensors. */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 };

const SCALAR_BYTES = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, uint64: 8, int64: 8, float64: 8 };

/** Metadata entry helpers: `kv.u32('llama.block_count', 2)`, `kv.arr('tokenizer.ggml.tokens', 'string', tokens)`. */
export const kv = {
  str: (key, value) => ({ key, type: 'string', value }),
  u32: (key, value) => ({ key, type: 'uint32', value }),
  i32: (key, value) => ({ key, type: 'int32', value }),
  f32: (key, value) => ({ key, type: 'float32', value }),
  bool: (key, value) => ({ key, type: 'bool', value }),
  arr: (key, itemType, value) => ({ key, type: 'array', itemType, value }),
};

class Out {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  bytes(b) {
    this.parts.push(b);
    this.length += b.length;
  }
  scalar(type, v) {
    const b = Buffer.alloc(SCALAR_BYTES[type]);
    switch (type) {
      case 'uint8': b.writeUInt8(v); break;
      case 'int8': b.writeInt8(v); break;
      case 'uint16': b.writeUInt16LE(v); break;
      case 'int16': b.writeInt16LE(v); break;
      case 'uint32': b.writeUInt32LE(v); break;
      case 'int32': b.writeInt32LE(v); break;
      case 'float32': b.writeFloatLE(v); break;
      case 'float64': b.writeDoubleLE(v); break;
      case 'bool': b.writeUInt8(v ? 1 : 0); break;
      case 'uint64': b.writeBigUInt64LE(BigInt(v)); break;
      case 'int64': b.writeBigInt64LE(BigInt(v)); break;
      default: throw new Error(`gguf-writer: unknown scalar type ${type}`);
    }
    this.bytes(b);
  }
  string(s, length) {
    const b = Buffer.from(s, 'utf8');
    this.scalar('uint64', length ?? b.length);
    this.bytes(b);
  }
  value(type, v, itemType) {
    if (type === 'string') this.string(v);
    else if (type === 'array') {
      this.scalar('uint32', GGUF_TYPE[itemType]);
      this.scalar('uint64', v.length);
      for (const item of v) this.value(itemType, item);
    } else this.scalar(type, v);
  }
  concat() {
    return Buffer.concat(this.parts, this.length);
  }
}

/**
 * The bytes of a GGUF file.
 * @param {object} o
 * @param {{key: string, type: string, value: unknown, itemType?: string, typeId?: number}[]} o.metadata in file order;
 *   `typeId` overrides the written value type id
 * @param {{name: string, dims: number[], type: number, bytes: Uint8Array, offset?: number}[]} o.tensors dims in ggml
 *   order (row length first); `offset` overrides the data offset (default: packed, aligned)
 * @param {number} [o.version] 3 by default
 * @param {number} [o.alignment] the data alignment used for offsets and padding (32 by default; written
 *   as general.alignment only when the metadata has it)
 * @param {string} [o.magic] 'GGUF' by default
 * @param {bigint} [o.tensorCount] override of the tensor count written
 * @param {bigint} [o.kvCount] override of the metadata count written
 */
export function ggufBytes({ metadata = [], tensors = [], version = 3, alignment = 32, magic = 'GGUF', tensorCount, kvCount }) {
  const out = new Out();
  out.bytes(Buffer.from(magic, 'latin1'));
  out.scalar('uint32', version);
  out.scalar('uint64', tensorCount ?? BigInt(tensors.length));
  out.scalar('uint64', kvCount ?? BigInt(metadata.length));
  for (const m of metadata) {
    out.string(m.key);
    out.scalar('uint32', m.typeId ?? GGUF_TYPE[m.type]);
    out.value(m.type, m.value, m.itemType);
  }
  const align = (n) => Math.ceil(n / alignment) * alignment;
  let offset = 0;
  const placed = tensors.map((t) => {
    const at = t.offset ?? align(offset);
    offset = Math.max(offset, at + t.bytes.length);
    return { ...t, at };
  });
  for (const t of placed) {
    out.string(t.name);
    out.scalar('uint32', t.dims.length);
    for (const d of t.dims) out.scalar('uint64', d);
    out.scalar('uint32', t.type);
    out.scalar('uint64', t.at);
  }
  const head = out.concat();
  if (placed.length === 0) return head;
  const dataStart = align(head.length);
  const file = Buffer.alloc(dataStart + align(offset));
  head.copy(file, 0);
  for (const t of placed) file.set(t.bytes, dataStart + t.at);
  return file;
}
