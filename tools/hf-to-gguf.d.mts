// Types of tools/hf-to-gguf.mjs for the TypeScript tests.
import type { GgufEntry } from './gguf-writer.mjs';
/** A quantizer: `quantizeMatrix` of src/runtime/quant/quantize.ts. */
export type Quantizer = (dtype: 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k', x: Float32Array, rows: number, cols: number, what?: string) => Uint8Array;
/** A matrix's GGUF type and bytes, when a test quantizes it (see convertFolder). */
export type QuantizeMatrix = (name: string, values: Float32Array, rows: number, cols: number) => { type: number; bytes: Uint8Array } | null | undefined;
/**
 * GGUF bytes of a Hugging Face folder; dtype 'f32' | 'f16' for every matrix, 'keep', or a quantized
 * file type (needs `quantizer`; `pure` puts every matrix in that type); `quantize` may pick a
 * matrix's type and bytes itself; `first` names tensors written before the others (else name order);
 * `edit` changes the metadata before it is written (a test's damaged file).
 */
export declare function convertFolder(
  dir: string,
  options?: { dtype?: 'f32' | 'f16' | 'keep' | 'q8_0' | 'q4_0' | 'q4_k' | 'q6_k'; name?: string; quantizer?: Quantizer; quantize?: QuantizeMatrix; pure?: boolean; first?: readonly string[]; edit?: (metadata: GgufEntry[]) => GgufEntry[] },
): Uint8Array;
/** The tokenizer.ggml.* metadata of a folder's tokenizer.json / tokenizer_config.json, padded to V tokens. */
export declare function tokenizerMetadata(dir: string, V: number): GgufEntry[];
