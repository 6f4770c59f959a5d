/**
 * The check a stored chunk passes each time it is read: XXH64 of its bytes, recorded beside the
 * SHA-256 when the chunk is written. The SHA-256 stays the chunk's name (the kept copy's key, a
 * local file's id, an expected file hash); XXH64 only answers "are these still the bytes we
 * stored", which is all a read needs: damage on disk or an edit in DevTools, not an attacker (who
 * could rewrite the recorded hash as easily as the bytes).
 *
 * Why not SHA-256 on every read: crypto.subtle.digest copies its input into fresh memory before
 * hashing, and on the machine measured here a first touch of fresh memory runs at ~300 MB/s, so
 * hashing 96 MiB of chunks added ~400 ms to reading them in a worker (the cache bench reads 2-2.5x
 * faster with XXH64 checks than with SHA-256 ones; README "Benchmarks"). XXH64 through
 * hash-wasm (WebAssembly) copies each chunk through a small buffer of its own that stays warm and
 * hashes at ~6 GB/s: 16 MiB in under 3 ms, on the reader's thread, so every chunk is checked before
 * it is handed out.
 */
import { createXXHash64, type IHasher } from 'hash-wasm';
import type { ChunkRecord } from './manifest.ts';
import { sha256Hex } from './sha256.ts';

/** Hashes one chunk: XXH64 (seed 0) of `bytes` as 16 lowercase hex digits. */
export type ChunkCheck = (bytes: Uint8Array) => string;

let made: Promise<ChunkCheck | null> | undefined;

/**
 * The chunk check, made once per thread; null where WebAssembly cannot be instantiated (a page
 * whose Content-Security-Policy forbids it): chunks are then written without XXH64 and read with
 * their SHA-256, as caches written before it are.
 */
export function chunkCheck(): Promise<ChunkCheck | null> {
  made ??= createXXHash64().then(
    (hasher: IHasher): ChunkCheck =>
      (bytes) => hasher.init().update(bytes).digest('hex'),
    () => null,
  );
  return made;
}

/**
 * What the manifest records of a chunk about to be stored: its length, its SHA-256 and, where
 * WebAssembly runs, its XXH64.
 */
export async function chunkRecord(bytes: Uint8Array): Promise<ChunkRecord> {
  const [sha256, check] = await Promise.all([sha256Hex(bytes), chunkCheck()]);
  return check ? { size: bytes.length, sha256, xxh64: check(bytes) } : { size: bytes.length, sha256 };
}

/** Whether `bytes` are still the chunk `want` records: by its XXH64 where recorded (and runnable), else its SHA-256. */
export async function matchesRecord(bytes: Uint8Array, want: ChunkRecord): Promise<boolean> {
  const check = want.xxh64 === undefined ? null : await chunkCheck();
  return check ? check(bytes) === want.xxh64 : (await sha256Hex(bytes)) === want.sha256;
}

/** Whether {@link matchesRecord} of `want` runs on the caller's thread at once (XXH64) rather than on crypto.subtle's. */
export async function checksAtOnce(want: ChunkRecord): Promise<boolean> {
  return want.xxh64 !== undefined && (await chunkCheck()) !== null;
}

/** How a failed check reads in an error: "... chunk 3 does not match the hash recorded when it was stored". */
export const MISMATCH = 'does not match the hash recorded when it was stored';
