import { GptError } from '../errors.ts';
import { ByteReader } from './byte-reader.ts';
import type { FileStream } from './model-files.ts';
import { describe, parseJsonObject } from './json.ts';

/**
 * safetensors: an 8-byte little-endian u64 header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data, with
 * offsets relative to the start of the data. https://github.com/huggingface/safetensors
 */

/** The dtypes we load; every other safetensors dtype is refused with 'unsupported-dtype'. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

/** Bytes per element of each supported dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = { F32: 4, F16: 2, BF16: 2 };

/** One tensor entry of the header. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Byte range [begin, end) relative to the start of the data. */
  readonly begin: number;
  readonly end: number;
}

/** The parsed, validated header of one safetensors file. */
export interface SafetensorsHeader {
  /** Tensors in file order (ascending begin offset). */
  readonly tensors: readonly TensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data in the file: 8 + N. */
  readonly dataStart: number;
}

/** A tensor with its bytes, as yielded by {@link SafetensorsReader.tensors}. */
export interface SafetensorsTensor extends TensorInfo {
  /** The tensor's raw little-endian elements; a fresh array, aligned for typed-array views. */
  readonly bytes: Uint8Array;
}

/** A safetensors file whose header has been read; its tensors can then be streamed once. */
export interface SafetensorsReader {
  readonly file: string;
  readonly header: SafetensorsHeader;
  /**
   * Yields every tensor in file order, one at a time, each assembled in one Uint8Array.
   * `onBytes` is told how many data bytes were consumed as chunks arrive (for progress).
   */
  tensors(opts?: { signal?: AbortSignal; onBytes?: (n: number) => void }): AsyncGenerator<SafetensorsTensor>;
}

/** The safetensors reference implementation refuses headers over 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses and validates a header. `headerJson` is the N bytes after the length prefix; `fileSize`
 * the whole file's size in bytes. Throws GptError 'bad-safetensors' or 'unsupported-dtype' naming
 * `file` and the tensor.
 */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const N = headerJson.byteLength;
  const dataStart = 8 + N;
  const dataSize = fileSize - dataStart;
  let raw: Record<string, unknown>;
  try {
    raw = parseJsonObject(new TextDecoder('utf-8', { fatal: true }).decode(headerJson), file);
  } catch (err) {
    const reason = err instanceof GptError ? err.message : 'it is not valid UTF-8';
    throw bad(file, `its ${N}-byte header is not a JSON object: ${reason}`);
  }
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(raw)) {
    if (name === '__metadata__') {
      if (entry && typeof entry === 'object' && !Array.isArray(entry)) metadata = entry as Record<string, string>;
      continue;
    }
    tensors.push(parseEntry(name, entry, file));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: TensorInfo | null = null;
  for (const t of tensors) {
    if (prev && t.begin < prev.end) {
      throw bad(file, `tensor ${t.name} bytes [${t.begin}, ${t.end}) overlap tensor ${prev.name} bytes [${prev.begin}, ${prev.end})`);
    }
    prev = t;
  }
  const last = tensors[tensors.length - 1];
  if (last && last.end > dataSize) {
    throw bad(
      file,
      `the file is truncated: tensor ${last.name} ends at data byte ${last.end} but the file holds only ${Math.max(0, dataSize)} data bytes ` +
        `(${fileSize} bytes in all, header ${N})`,
    );
  }
  return { tensors, metadata, dataStart };
}

function parseEntry(name: string, entry: unknown, file: string): TensorInfo {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    throw bad(file, `header entry for tensor ${name} should be an object {dtype, shape, data_offsets}, found ${describe(entry)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad(file, `tensor ${name} has no dtype string (found ${describe(dtype)})`);
  if (!(dtype in DTYPE_BYTES)) {
    throw new GptError(
      'unsupported-dtype',
      `${file}: tensor ${name} has dtype ${dtype}; we load F32, F16 and BF16 only. ` +
        `Hint: use an unquantised checkpoint, or convert it with torch (model.to(torch.float16)) and save_pretrained.`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(file, `tensor ${name} shape should be an array of non-negative integers, found ${describe(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad(file, `tensor ${name} data_offsets should be [begin, end] with 0 <= begin <= end, found ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype as SafetensorsDType];
  if (expected !== end - begin) {
    throw bad(
      file,
      `tensor ${name} shape [${shape.join(', ')}] x ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end };
}

function bad(file: string, what: string): GptError {
  return new GptError('bad-safetensors', `${file} is not a valid safetensors file: ${what}. Hint: download the file again.`);
}

/**
 * Reads the header of a streamed safetensors file and returns a reader for its tensors. Only the
 * header and one tensor at a time are held in memory. `file` names the file in error messages.
 */
export async function openSafetensors(stream: FileStream, file: string): Promise<SafetensorsReader> {
  const bytes = new ByteReader(stream.chunks[Symbol.asyncIterator]());
  if (stream.size < 8) {
    throw bad(file, `it is ${stream.size} bytes long, shorter than the 8-byte header length that starts every safetensors file`);
  }
  const prefix = await bytes.read(8);
  if (!prefix) throw bad(file, `the file is truncated: it ended before the 8-byte header length`);
  const N = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (N > MAX_HEADER_BYTES) {
    throw bad(file, `the header length ${N} is absurd (over ${MAX_HEADER_BYTES} bytes); the file does not start with a safetensors header`);
  }
  if (8 + N > stream.size) {
    throw bad(file, `the header length ${N} runs past the end of the ${stream.size}-byte file`);
  }
  const headerJson = await bytes.read(N);
  if (!headerJson) throw bad(file, `the file is truncated: it ended inside the ${N}-byte header`);
  const header = parseSafetensorsHeader(headerJson, stream.size, file);
  let used = false;
  return {
    file,
    header,
    async *tensors(opts = {}) {
      if (used) throw new GptError('internal', `${file}: the tensors of a safetensors stream can be read only once.`);
      used = true;
      let pos = 0; // bytes of data consumed so far
      for (const t of header.tensors) {
        if (opts.signal?.aborted) throw new GptError('aborted', `Loading ${file} was aborted.`);
        if (t.begin > pos) {
          if (!(await bytes.skip(t.begin - pos))) throw truncated(file, t, pos);
          opts.onBytes?.(t.begin - pos);
          pos = t.begin;
        }
        const data = await bytes.read(t.end - t.begin, opts.onBytes);
        if (!data) throw truncated(file, t, pos);
        pos = t.end;
        yield { ...t, bytes: data };
      }
    },
  };
}

function truncated(file: string, t: TensorInfo, pos: number): GptError {
  return bad(file, `the file is truncated: the stream ended at data byte ${pos}, before tensor ${t.name} ([${t.begin}, ${t.end}]) was complete`);
}

/** The parsed `model.safetensors.index.json` of a sharded checkpoint. */
export interface SafetensorsIndex {
  /** Tensor name -> shard file name. */
  readonly weightMap: ReadonlyMap<string, string>;
  /** Shard file names in sorted order (the order they are read). */
  readonly files: readonly string[];
  /** `metadata.total_size`: bytes of tensor data over all shards, when given. */
  readonly totalSize: number | null;
}

/**
 * Parses `model.safetensors.index.json` (`{metadata: {total_size}, weight_map: {tensor: file}}`).
 * Throws 'bad-json' when it is not JSON and 'bad-safetensors' when weight_map is missing or wrong.
 */
export function parseSafetensorsIndex(text: string, file = 'model.safetensors.index.json'): SafetensorsIndex {
  const raw = parseJsonObject(text, file);
  const map = raw['weight_map'];
  if (!map || typeof map !== 'object' || Array.isArray(map)) {
    throw new GptError('bad-safetensors', `${file} has no weight_map object {tensor name: shard file}; found ${describe(map)}. Hint: download the file again.`);
  }
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard.length === 0) {
      throw new GptError('bad-safetensors', `${file}: weight_map entry for tensor ${name} should be a shard file name, found ${describe(shard)}.`);
    }
    weightMap.set(name, shard);
  }
  const meta = raw['metadata'];
  const total = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)['total_size'] : undefined;
  return {
    weightMap,
    files: [...new Set(weightMap.values())].sort(),
    totalSize: typeof total === 'number' && Number.isFinite(total) ? total : null,
  };
}
