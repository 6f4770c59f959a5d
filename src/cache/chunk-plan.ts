/**
 * Chunk arithmetic: which byte spans a file is cut into, and which spans still have to be fetched.
 * Pure functions, tested in Node.
 */
import type { ChunkRecord } from './manifest.ts';

/** A span of a file requested in one HTTP request: [start, end) bytes, chunks first.. */
export interface ByteSpan {
  /** Index of the first chunk the span fills. */
  readonly first: number;
  readonly start: number;
  /** Exclusive; null when the file size is unknown (read to the end). */
  readonly end: number | null;
}

/** Number of chunks of a file of `size` bytes (an empty file still has none). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/**
 * The spans still to download: one per run of consecutive missing chunks, so a resume after a
 * dropped connection, or the repair of one corrupted chunk, fetches only what is missing.
 * A file of unknown size is always fetched whole.
 */
export function missingSpans(size: number | null, chunkSize: number, stored: readonly (ChunkRecord | null)[]): ByteSpan[] {
  if (size === null) return [{ first: 0, start: 0, end: null }];
  const spans: ByteSpan[] = [];
  const n = chunkCount(size, chunkSize);
  for (let i = 0; i < n; i++) {
    if (stored[i]) continue;
    let j = i;
    while (j + 1 < n && !stored[j + 1]) j++;
    spans.push({ first: i, start: i * chunkSize, end: Math.min(size, (j + 1) * chunkSize) });
    i = j;
  }
  return spans;
}

/** The `Range` header value for a span of a file of `size` bytes, or null when it is the whole file. */
export function rangeHeader(span: ByteSpan, size: number | null): string | null {
  if (span.start === 0 && (span.end === null || span.end === size)) return null;
  return span.end === null ? `bytes=${span.start}-` : `bytes=${span.start}-${span.end - 1}`;
}

/**
 * Parses `Content-Range: bytes a-b/total` into [start, endExclusive, total|null], or null when the
 * header is absent or malformed.
 */
export function parseContentRange(header: string | null): [number, number, number | null] | null {
  const m = header && /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!m) return null;
  return [Number(m[1]), Number(m[2]) + 1, m[3] === '*' ? null : Number(m[3])];
}
