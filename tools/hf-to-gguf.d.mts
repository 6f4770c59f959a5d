// Types of tools/hf-to-gguf.mjs for the TypeScript tests.
import type { GgufEntry } from './gguf-writer.mjs';
/** A matrix's GGUF type and bytes, when a test quantizes it (see convertFolder). */
export type QuantizeMatrix = (name: string, values: Float32Array, rows: number, cols: number) => { type: number; bytes: Uint8Array } | null | undefined;
/** GGUF bytes of a Hugging Face folder; dtype 'f32' | 'f16' for every matrix, or 'keep'; `quantize` may store a matrix quantized. */
export declare function convertFolder(dir: string, options?: { dtype?: 'f32' | 'f16' | 'keep'; name?: string; quantize?: QuantizeMatrix }): Uint8Array;
/** The tokenizer.ggml.* metadata of a folder's tokenizer.json / tokenizer_config.json, padded to V tokens. */
export declare function tokenizerMetadata(dir: string, V: number): GgufEntry[];
