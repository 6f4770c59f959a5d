// A manifest as a cache written before XXH64 holds it: each chunk with its size and SHA-256 only.
import type { ModelRecord } from '../../src/cache/manifest.ts';

/** `manifest` without the XXH64 of any chunk. */
export function beforeXxh64(manifest: ModelRecord): ModelRecord {
  return { ...manifest, files: manifest.files.map((f) => ({ ...f, chunks: f.chunks.map((c) => c && { size: c.size, sha256: c.sha256 }) })) };
}
