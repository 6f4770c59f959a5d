import type { GgufTensorInfo } from '../../formats/gguf.ts';

const EMBEDDING = 'token_embd.weight';
const HEAD = 'output.weight';
/** Words of the cheap first look at the second tensor (see {@link CopiedHeadCheck.isCopy}). */
const SAMPLE_WORDS = 4096;

/**
 * Finds a GGUF output head that is a byte-for-byte copy of the token embedding, so that the model
 * holds one matrix where the file stores two. llama.cpp's GPT-2 converter writes GPT-2's tied
 * head again as output.weight (llama.cpp's gpt2 graph reads both), which would otherwise keep two
 * equal (V, C) matrices, 154 MB each for GPT-2 in F32, where the Hugging Face folder has one.
 *
 * The two arrive one after the other in file order (either may be first) and only one tensor is
 * in memory at a time, so the first is hashed as it passes and the second compared by hash: a
 * 4096-word sample first (an untied head differs there and costs nothing more), then every byte.
 * The hash is not cryptographic: tensors that differ in one word never collide, in many about
 * once in 2^128, and a file crafted to collide only gets its own embedding as its head. Hashing
 * costs ~80 ms for GPT-2's 154 MB embedding in F32.
 */
export class CopiedHeadCheck {
  private first: { name: string; sample: string; full: string } | null = null;
  private readonly possible: boolean;

  /** Possible only when the file has both tensors with the same type and shape. */
  constructor(tensors: readonly GgufTensorInfo[]) {
    const embd = tensors.find((t) => t.name === EMBEDDING);
    const head = tensors.find((t) => t.name === HEAD);
    this.possible =
      embd !== undefined && head !== undefined && embd.layout.name === head.layout.name && embd.shape.length === head.shape.length && embd.shape.every((d, i) => d === head.shape[i]);
  }

  /**
   * Called with each of the two tensors as it streams in (others are ignored): false for the
   * first, which the caller stores, and for a second that differs; true for a second whose
   * bytes equal the first's, which the caller then need not store.
   */
  isCopy(name: string, bytes: Uint8Array): boolean {
    if (!this.possible || (name !== EMBEDDING && name !== HEAD)) return false;
    if (this.first === null) {
      this.first = { name, sample: hashBytes(bytes, SAMPLE_WORDS), full: hashBytes(bytes) };
      return false;
    }
    if (this.first.name === name) return false;
    return hashBytes(bytes, SAMPLE_WORDS) === this.first.sample && hashBytes(bytes) === this.first.full;
  }
}

/**
 * A 128-bit hash of `bytes`, or of `words` of its 32-bit words spread evenly over it: four lanes
 * of FNV-1a over words, word i going to lane i mod 4. Each step (xor a word, multiply by an odd
 * number) is a bijection of the lane, so tensors that differ in one word always hash apart; four
 * independent lanes keep the multiplies in flight together (~0.5 ms a MB in Node 20, where a
 * murmur-style mix of every word took ~2.5).
 */
function hashBytes(bytes: Uint8Array, words = Infinity): string {
  const n = bytes.byteLength >>> 2;
  // tensors from the GGUF reader are fresh, aligned arrays; a view elsewhere is copied once
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const w = new Int32Array(aligned.buffer, aligned.byteOffset, n);
  const P = 0x01000193;
  let a = 0x811c9dc5 ^ bytes.byteLength;
  let b = 0x811c9dc5;
  let c = 0x811c9dc5;
  let d = 0x811c9dc5;
  if (words >= n) {
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      a = Math.imul(a ^ w[i]!, P);
      b = Math.imul(b ^ w[i + 1]!, P);
      c = Math.imul(c ^ w[i + 2]!, P);
      d = Math.imul(d ^ w[i + 3]!, P);
    }
    for (; i < n; i++) a = Math.imul(a ^ w[i]!, P);
  } else {
    const step = n / words;
    for (let i = 0; i < words; i++) a = Math.imul(a ^ w[Math.floor(i * step)]!, P);
  }
  for (let o = n * 4; o < bytes.byteLength; o++) b = Math.imul(b ^ bytes[o]!, P);
  return [a, b, c, d].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}
