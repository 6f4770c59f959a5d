// Types of tools/hf-to-gguf.mjs for the TypeScript tests.
import type { GgufEntry } from './gguf-writer.mjs';
/** GGUF bytes of a Hugging Face folder; dtype 'f32' | 'f16' for every matrix, or 'keep'. */
export declare function convertFolder(dir: string, options?: { dtype?: 'f32' | 'f16' | 'keep'; name?: string }): Uint8Array;
/** The tokenizer.ggml.* metadata of a folder's tokenizer.json / tokenizer_config.json, padded to V tokens. */
export declare function tokenizerMetadata(dir: string, V: number): GgufEntry[];
