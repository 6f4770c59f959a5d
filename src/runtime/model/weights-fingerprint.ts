/**
 * A fingerprint of a checkpoint's weights, taken while they stream in: what a task head records
 * as "the model it was trained on", so a head is not applied to another model's hidden states.
 *
 * Each tensor is hashed on its name, dtype, shape and its bytes as stored in the file (all of a
 * tensor up to 256 KiB, else 65536 words spread evenly over it), and the per-tensor hashes are
 * combined in name order: the same weights give the same fingerprint on every backend and in any
 * sharding. Sampling keeps it to a few milliseconds for a 1 GB model (hashing every byte in JS
 * would add most of a second to every load); any fine-tune changes nearly every weight, so a
 * sample tells checkpoints apart. It is an identity check, not a security hash.
 */

/** Words hashed per tensor at most. */
const SAMPLE_WORDS = 65536;

/** Collects tensors during loading; {@link hex} gives the fingerprint (16 hex digits). */
export class WeightsFingerprint {
  private readonly tensors = new Map<string, string>();

  /** Adds one tensor (each name once; a repeat replaces the earlier one). */
  add(name: string, dtype: string, shape: readonly number[], bytes: Uint8Array): void {
    const h = new Hash64();
    h.text(`${name}|${dtype}|${shape.join(',')}|${bytes.length}`);
    const words = bytes.length >>> 2;
    const step = words <= SAMPLE_WORDS ? 1 : words / SAMPLE_WORDS;
    const count = Math.min(words, SAMPLE_WORDS);
    for (let j = 0; j < count; j++) {
      const o = Math.floor(j * step) * 4;
      h.word(bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24));
    }
    for (let o = words * 4; o < bytes.length; o++) h.word(bytes[o]!); // trailing bytes
    this.tensors.set(name, h.hex());
  }

  /** The fingerprint of everything added, independent of the order tensors arrived in. */
  hex(): string {
    const h = new Hash64();
    for (const name of [...this.tensors.keys()].sort()) h.text(this.tensors.get(name)!);
    return h.hex();
  }
}

/** Two 32-bit murmur3-style lanes with different seeds: 64 bits, integer arithmetic only. */
class Hash64 {
  private a = 0x811c9dc5;
  private b = 0x01000193;
  private n = 0;

  word(w: number): void {
    this.a = mix(this.a, w, 0xcc9e2d51);
    this.b = mix(this.b, w, 0x85ebca6b);
    this.n++;
  }

  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  hex(): string {
    return fmix(this.a ^ this.n).toString(16).padStart(8, '0') + fmix(this.b ^ this.n).toString(16).padStart(8, '0');
  }
}

function mix(h: number, w: number, c: number): number {
  let k = Math.imul(w, c);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
