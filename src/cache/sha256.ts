/**
 * SHA-256 two ways. Chunks are hashed with crypto.subtle (native, ~1 GB/s). A whole file checked
 * against an expected SHA-256 needs an incremental hash, which crypto.subtle does not offer (it
 * takes one buffer), and holding a 1 GB file to hash it is what the chunking avoids: that one is
 * @noble/hashes (audited, maintained, 60 MB/s streaming 64 MiB in 1 MiB pieces in Node here,
 * where our former hand-written FIPS 180-4 code did 38 MB/s), used only when the caller gives an
 * expected hash, and where crypto.subtle is missing (plain-http pages).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** SHA-256 of `bytes` as 64 lowercase hex digits, through crypto.subtle. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // crypto.subtle exists only in secure contexts (https, localhost): a page served over plain http
  // from a LAN address still gets a working, slower cache.
  if (!globalThis.crypto?.subtle) return bytesToHex(sha256(bytes));
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** Incremental SHA-256: `update` with the file's chunks in order, then `hex()` once. */
export class Sha256 {
  readonly #hash = sha256.create();

  update(data: Uint8Array): this {
    this.#hash.update(data);
    return this;
  }

  /** The digest as 64 lowercase hex digits; the hash cannot be updated afterwards. */
  hex(): string {
    return bytesToHex(this.#hash.digest());
  }
}
