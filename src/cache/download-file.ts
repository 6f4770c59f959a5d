/**
 * Downloads the missing chunks of one file into the store. Each chunk is hashed and written in one
 * transaction together with the partial record that lists it, so the record never claims a chunk
 * that is not stored. One write is in flight while the next chunk arrives from the network; at most
 * two chunks are in memory.
 */
import { GptError } from '../errors.ts';
import { modelFileUrl } from '../formats/model-location.ts';
import { bodyChunks } from '../formats/http-body.ts';
import type { CacheStore } from './cache-store.ts';
import { missingSpans, parseContentRange, rangeHeader, type ByteSpan } from './chunk-plan.ts';
import { chunkKey, fileChunksPrefix, partialKey, type ChunkRecord, type ModelRecord } from './manifest.ts';
import type { ProgressMeter } from './progress.ts';
import { remoteFile } from './probe.ts';
import { corsRefusal, hiddenContentRange } from './cors.ts';
import { checkFirstBytes, checkResponse } from './response-check.ts';
import { chunkRecord } from './chunk-check.ts';

/** A file of the partial record while it is being filled in. */
export interface DraftFile {
  readonly name: string;
  size: number | null;
  etag: string | null;
  lastModified: string | null;
  contentType: string | null;
  generation: string;
  chunks: (ChunkRecord | null)[];
  sha256: string | null;
}

/** The partial record of a model while it downloads (same shape as a stored ModelRecord). */
export interface Draft extends Omit<ModelRecord, 'files'> {
  readonly files: DraftFile[];
}

export interface FileDownloadContext {
  readonly base: string;
  readonly fetch: typeof fetch;
  readonly store: CacheStore;
  readonly meter: ProgressMeter;
  readonly signal?: AbortSignal;
}

/** Errors worth retrying after a pause: a dropped connection, a failed fetch, a 5xx. */
const transient = new WeakSet<object>();

/** True for a download error that may pass on a retry (the stored chunks are kept either way). */
export function isTransient(e: unknown): boolean {
  return typeof e === 'object' && e !== null && transient.has(e);
}

function networkError(message: string): GptError {
  const e = new GptError('network', message);
  transient.add(e);
  return e;
}

/** A fresh generation id: chunks of a new version of a file never collide with the old one's. */
export function newGeneration(): string {
  return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
}

/** Forgets a file's stored chunks (the remote file changed) and starts it over. */
async function resetFile(ctx: FileDownloadContext, draft: Draft, f: DraftFile): Promise<void> {
  await ctx.store.deletePrefix(fileChunksPrefix(ctx.base, f));
  f.generation = newGeneration();
  f.chunks = [];
  f.size = null;
  f.sha256 = null;
  await ctx.store.write([[partialKey(ctx.base), structuredClone(draft)]]);
}

/**
 * Fetches every missing chunk of `f`, resuming with HTTP Range where chunks are stored. A server
 * that ignores Range (200 instead of 206) is read from the start; a file that changed remotely
 * (other ETag, Last-Modified or length) is started over once. Throws GptError 'network' (dropped
 * connection, HTTP error), 'integrity' (wrong Content-Range, more bytes than announced), 'quota',
 * 'aborted'.
 */
export async function downloadFile(ctx: FileDownloadContext, draft: Draft, f: DraftFile, chunkSize: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let changed = false;
    for (const span of missingSpans(f.size, chunkSize, f.chunks)) {
      if ((await fetchSpan(ctx, draft, f, span, chunkSize)) === 'changed') {
        changed = true;
        break;
      }
    }
    if (!changed) return;
    if (attempt === 1) {
      throw networkError(`${ctx.base}${f.name} changed on the server twice while it was downloading. HINT: try again once the model upload is finished.`);
    }
    await resetFile(ctx, draft, f);
  }
}

async function fetchSpan(ctx: FileDownloadContext, draft: Draft, f: DraftFile, span: ByteSpan, chunkSize: number): Promise<'done' | 'changed'> {
  const { base, signal } = ctx;
  const url = modelFileUrl(base, f.name);
  const range = rangeHeader(span, f.size);
  let res: Response;
  try {
    res = await ctx.fetch(url, { headers: range ? { Range: range } : {}, signal });
  } catch (e) {
    if (signal?.aborted) throw new GptError('aborted', `Downloading ${url} was aborted; the chunks stored so far are kept.`);
    const refused = await corsRefusal(ctx.fetch, url, signal);
    if (refused) throw refused;
    throw networkError(`Could not download ${url} (${e instanceof Error ? e.message : String(e)}). HINT: check the connection; stored chunks are kept and the next load resumes.`);
  }
  try {
    checkResponse(res, base, f.name);
  } catch (e) {
    if (res.status >= 500) transient.add(e as object);
    throw e;
  }
  const remote = remoteFile(f.name, res);
  let start = span.start;
  let end = span.end;
  if (range && res.status === 200) {
    // The server ignored Range and sends the whole file: read it from byte 0, rewriting chunks.
    if (f.size !== null && remote.size !== null && remote.size !== f.size) return 'changed';
    start = 0;
    end = f.size;
  } else if (range) {
    if (res.status !== 206) throw networkError(`${url}: HTTP ${res.status} to a Range request, expected 206 or 200.`);
    const hidden = hiddenContentRange(res, url);
    if (hidden) throw hidden;
    const got = res.headers.get('content-range');
    const cr = parseContentRange(got);
    if (cr && cr[2] !== null && cr[2] !== f.size) return 'changed';
    if (!cr || cr[0] !== span.start || (span.end !== null && cr[1] !== span.end)) {
      throw new GptError('integrity', `${url}: asked for ${range}, the server sent Content-Range ${JSON.stringify(got)}. Nothing of it was stored. HINT: the server or a proxy mishandles Range requests; serve the file from a server that supports them.`);
    }
  } else if (res.status === 206) {
    throw new GptError('integrity', `${url}: the server sent a partial response (206) to a request for the whole file. Nothing was stored.`);
  }
  if (changedRemotely(f, remote)) {
    if (f.chunks.some((c) => c)) return 'changed';
  }
  if (!range) {
    // The GET is the authority on what is being stored (HEAD may have lacked a length).
    f.size = remote.size ?? f.size;
    f.etag = remote.etag ?? f.etag;
    f.lastModified = remote.lastModified ?? f.lastModified;
    f.contentType = remote.contentType ?? f.contentType;
    end = span.end ?? f.size;
  }
  if (f.size !== null) ctx.meter.setSize(f.name, f.size);
  await streamChunks(ctx, draft, f, res, start, end, chunkSize);
  return 'done';
}

/** A file changed when a validator both sides have differs. */
function changedRemotely(f: DraftFile, remote: { etag: string | null; lastModified: string | null }): boolean {
  const weak = (s: string) => s.replace(/^W\//, '');
  if (f.etag && remote.etag) return weak(f.etag) !== weak(remote.etag);
  if (f.lastModified && remote.lastModified) return f.lastModified !== remote.lastModified;
  return false;
}

async function streamChunks(
  ctx: FileDownloadContext,
  draft: Draft,
  f: DraftFile,
  res: Response,
  start: number,
  end: number | null,
  chunkSize: number,
): Promise<void> {
  const url = modelFileUrl(ctx.base, f.name);
  if (!res.body) throw networkError(`${url}: the response has no body.`);
  const nextBuffer = (index: number) => new Uint8Array(end === null ? chunkSize : Math.max(0, Math.min(chunkSize, end - index * chunkSize)));
  let index = start / chunkSize; // spans start on chunk boundaries
  let position = start;
  let buffer = nextBuffer(index); // (chunkSize or the file's last, shorter chunk)
  let fill = 0;
  let pending: Promise<void> = Promise.resolve();
  // The first bytes are checked as soon as there are enough of them, so an HTML page shorter than
  // a chunk is recognised as such rather than as a dropped connection.
  let sniffed = start > 0;
  const sniff = () => {
    if (sniffed) return;
    sniffed = true;
    checkFirstBytes(buffer.subarray(0, fill), f.size, ctx.base, f.name);
  };

  const flush = async (bytes: Uint8Array, i: number) => {
    const record = await chunkRecord(bytes);
    await pending; // one write at a time, so each partial record lists only chunks already stored
    f.chunks[i] = record;
    const snapshot = structuredClone(draft);
    pending = writeChunk(ctx, f, i, bytes, snapshot);
    pending.catch(() => {}); // surfaced by the next await of `pending`
  };

  const dropped = (e: unknown) =>
    networkError(`The connection dropped while downloading ${url} at byte ${position} of ${end ?? '?'} (${e instanceof Error ? e.message : String(e)}). HINT: load the model again; the download resumes from the stored chunks.`);
  try {
    for await (let value of bodyChunks(res.body, ctx.signal, `Downloading ${url} was aborted; the chunks stored so far are kept.`, dropped)) {
      if (end !== null && position + value.length > end) {
        throw new GptError('integrity', `${url}: the server sent more than the ${end - start} bytes it announced (bytes ${start}-${end - 1}). Nothing past byte ${position} was stored. HINT: the file changed on the server; load again.`);
      }
      ctx.meter.advance(f.name, position + value.length, value.length);
      while (value.length > 0) {
        const n = Math.min(buffer.length - fill, value.length);
        buffer.set(value.subarray(0, n), fill);
        fill += n;
        position += n;
        value = value.subarray(n);
        if (index === 0 && fill >= Math.min(256, buffer.length)) sniff();
        if (fill === buffer.length) {
          await flush(buffer, index);
          index += 1;
          buffer = nextBuffer(index);
          fill = 0;
        }
      }
    }
    if (index === 0 && fill > 0) sniff();
    if (end !== null && position < end) {
      throw networkError(`The connection closed while downloading ${url}: got bytes ${start}-${position - 1}, expected up to ${end - 1}. HINT: load the model again; the download resumes from the stored chunks.`);
    }
    if (end === null) {
      if (fill > 0) await flush(buffer.slice(0, fill), index);
      f.size = position;
      ctx.meter.setSize(f.name, position);
    }
    await pending;
  } catch (e) {
    // bodyChunks has cancelled the body (the loop was left); let the write in flight settle first.
    await pending.catch(() => {});
    throw e;
  }
}

async function writeChunk(ctx: FileDownloadContext, f: DraftFile, i: number, bytes: Uint8Array, snapshot: Draft): Promise<void> {
  try {
    await ctx.store.write([
      [chunkKey(ctx.base, f, i), bytes],
      [partialKey(ctx.base), snapshot],
    ]);
  } catch (e) {
    if (isQuotaError(e)) throw new GptError('quota', `Storing chunk ${i} of ${ctx.base}${f.name} exceeded the storage quota.`);
    throw new GptError('internal', `Storing chunk ${i} of ${ctx.base}${f.name} in IndexedDB failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}.`);
  }
}

/** QuotaExceededError as thrown by IndexedDB (a DOMException) or a transaction that aborted with it. */
export function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}
