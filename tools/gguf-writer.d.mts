// Types of tools/gguf-writer.mjs for the TypeScript tests.
export declare const GGUF_TYPE: Readonly<Record<string, number>>;
export declare const GGML_TYPE: { readonly F32: 0; readonly F16: 1; readonly Q4_0: 2; readonly Q8_0: 8; readonly Q4_K: 12; readonly Q6_K: 14; readonly BF16: 30 };
export interface GgufEntry {
  key: string;
  type: string;
  value: unknown;
  itemType?: string;
  /** Overrides the value type id written. */
  typeId?: number;
}
export interface GgufTensorEntry {
  name: string;
  /** ggml order: the row length first. */
  dims: number[];
  type: number;
  bytes: Uint8Array;
  offset?: number;
}
export declare const kv: {
  str(key: string, value: string): GgufEntry;
  u32(key: string, value: number): GgufEntry;
  i32(key: string, value: number): GgufEntry;
  f32(key: string, value: number): GgufEntry;
  bool(key: string, value: boolean): GgufEntry;
  arr(key: string, itemType: string, value: readonly unknown[]): GgufEntry;
};
export declare function ggufBytes(o: {
  metadata?: GgufEntry[];
  tensors?: GgufTensorEntry[];
  version?: number;
  alignment?: number;
  magic?: string;
  tensorCount?: bigint;
  kvCount?: bigint;
}): Uint8Array;
