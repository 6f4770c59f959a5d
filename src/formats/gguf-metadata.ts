import { GptError } from '../errors.ts';

/**
 * GGUF metadata: the typed key/value pairs of a GGUF header (ggml/docs/gguf.md), and reads of them
 * that name the key and the type expected when a value is missing or of another type.
 */

/** gguf_type: the value types of the metadata, by id. */
export const GGUF_VALUE_TYPES = [
  'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64',
] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** Bytes of one value of each fixed-size type; strings take at least 8 (their length). */
export const GGUF_VALUE_BYTES: Readonly<Record<Exclude<GgufValueType, 'array'>, number>> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, string: 8, uint64: 8, int64: 8, float64: 8,
};

/** A scalar value; 64-bit integers beyond 2^53 stay bigint so that nothing is silently rounded. */
export type GgufScalar = number | bigint | boolean | string;

/** One metadata value. Numeric arrays are typed arrays (a vocabulary's scores are 150k floats). */
export type GgufValue =
  | { readonly type: Exclude<GgufValueType, 'array'>; readonly value: GgufScalar }
  | { readonly type: 'array'; readonly itemType: Exclude<GgufValueType, 'array'>; readonly value: GgufArray };

export type GgufArray = readonly string[] | readonly boolean[] | readonly (number | bigint)[] | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

const INTEGER_TYPES: ReadonlySet<string> = new Set(['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64']);

/**
 * The metadata of one GGUF file with typed reads. Every read of a key that is present but of the
 * wrong type throws GptError 'bad-gguf' naming the file, the key, the type expected and the type
 * found; a required key that is absent throws 'bad-gguf' naming it.
 */
export class GgufMetadata {
  constructor(
    private readonly values: ReadonlyMap<string, GgufValue>,
    /** The file, for error messages. */
    readonly file: string,
  ) {}

  /** Keys in file order. */
  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The raw value, or undefined. */
  get(key: string): GgufValue | undefined {
    return this.values.get(key);
  }

  /** A string value; `fallback` when absent (required when no fallback is given). */
  string(key: string, fallback?: string): string {
    const v = this.scalar(key, 'a string', fallback, (x) => x.type === 'string');
    return v as string;
  }

  /** A non-negative integer of any integer type, within 2^53. */
  uint(key: string, fallback?: number): number {
    const v = this.scalar(key, 'an unsigned integer', fallback, (x) => INTEGER_TYPES.has(x.type));
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(key, 'a non-negative integer below 2^53', describeValue(this.values.get(key)!));
    return v;
  }

  /** A finite number (float32, float64, or an integer type). */
  float(key: string, fallback?: number): number {
    const v = this.scalar(key, 'a number', fallback, (x) => x.type === 'float32' || x.type === 'float64' || INTEGER_TYPES.has(x.type));
    const n = Number(v);
    if (!Number.isFinite(n)) this.fail(key, 'a finite number', describeValue(this.values.get(key)!));
    return n;
  }

  bool(key: string, fallback?: boolean): boolean {
    return this.scalar(key, 'a bool', fallback, (x) => x.type === 'bool') as boolean;
  }

  /** An array of strings; `null` when absent and not required. */
  stringArray(key: string, required: true): readonly string[];
  stringArray(key: string, required?: false): readonly string[] | null;
  stringArray(key: string, required = false): readonly string[] | null {
    const v = this.array(key, 'an array of strings', required, (t) => t === 'string');
    return v as readonly string[] | null;
  }

  /** An array of numbers of any numeric item type; `null` when absent and not required. */
  numberArray(key: string, required = false): ArrayLike<number> | null {
    const v = this.array(key, 'an array of numbers', required, (t) => t !== 'string' && t !== 'bool');
    if (v === null) return null;
    const arr = v as ArrayLike<number | bigint>;
    for (let i = 0; i < arr.length; i++) {
      if (typeof arr[i] === 'bigint') this.fail(key, 'an array of numbers below 2^53', `item ${i} = ${String(arr[i])}`);
    }
    return arr as ArrayLike<number>;
  }

  /** Throws the GptError for `key` holding something other than `expected`. */
  fail(key: string, expected: string, found: string): never {
    throw new GptError(
      'bad-gguf',
      `${this.file}: metadata ${key} should be ${expected}, found ${found}. Hint: the file was written by an incompatible converter; convert the model again with a current llama.cpp.`,
    );
  }

  private scalar<T>(key: string, expected: string, fallback: T | undefined, ok: (v: GgufValue) => boolean): GgufScalar | T {
    const v = this.values.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new GptError('bad-gguf', `${this.file}: metadata ${key} is missing; it should be ${expected}. Hint: the file is incomplete or not a model GGUF; convert the model again with a current llama.cpp.`);
    }
    if (!ok(v)) this.fail(key, expected, describeValue(v));
    return v.value as GgufScalar;
  }

  private array(key: string, expected: string, required: boolean, ok: (item: GgufValueType) => boolean): GgufArray | null {
    const v = this.values.get(key);
    if (v === undefined) {
      if (!required) return null;
      throw new GptError('bad-gguf', `${this.file}: metadata ${key} is missing; it should be ${expected}. Hint: convert the model again with a current llama.cpp.`);
    }
    if (v.type !== 'array' || !ok(v.itemType)) this.fail(key, expected, describeValue(v));
    return v.value;
  }
}

/** "uint32 7", "string \"llama\"", "array of 32000 float32". */
export function describeValue(v: GgufValue): string {
  if (v.type === 'array') return `an array of ${v.value.length} ${v.itemType}`;
  if (v.type === 'string') {
    const s = v.value as string;
    return `string ${JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s)}`;
  }
  return `${v.type} ${String(v.value)}`;
}
