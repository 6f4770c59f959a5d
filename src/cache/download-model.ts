/**
 * Downloads a model folder into the store: list the remote files, reuse what a previous attempt or
 * the current manifest already holds, fetch the rest chunk by chunk, check expected SHA-256s, and
 * only then write the manifest.
 */
import { GptError } from '../errors.ts';
import { ggufFileName } from '../formats/model-location.ts';
import { checkStoredGguf } from './check-gguf.ts';
import type { CacheStore } from './cache-store.ts';
import { uncoordinated, type DownloadCoordinator } from './cross-context.ts';
import { downloadFile, isQuotaError, isTransient, newGeneration, type Draft, type DraftFile } from './download-file.ts';
import {
  chunkKey, fileChunksPrefix, manifestKey, parseModelRecord, partialKey, storedBytes, storedChunks,
  type CachedFile, type ModelRecord,
} from './manifest.ts';
import { probeFolder, type RemoteFile, type RemoteFolder } from './probe.ts';
import { ProgressMeter, type CacheProgress } from './progress.ts';
import { prepareStorage, quotaError, type QuotaWarning, type StorageLike } from './quota.ts';
import { Sha256 } from './sha256.ts';

/** Everything a download needs, dependencies included. */
export interface DownloadOptions {
  readonly fetch: typeof fetch;
  readonly store: CacheStore;
  readonly chunkSize: number;
  readonly signal?: AbortSignal;
  readonly onProgress: (p: CacheProgress) => void;
  readonly onQuotaWarning?: (w: QuotaWarning) => void;
  /** Expected SHA-256 (hex) per file name. */
  readonly sha256: Readonly<Record<string, string>>;
  readonly storage?: StorageLike;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Extra attempts after a dropped connection or a 5xx, each resuming from the stored chunks. */
  readonly retries: number;
  /** The manifest being refreshed: its unchanged files are kept, not downloaded again. */
  readonly previous?: ModelRecord;
  /** The folder as already probed (a refresh compared it with the manifest); else it is probed here. */
  readonly folder?: RemoteFolder;
  /** Awaited with the bytes still to download, when every size is known, before any is fetched. */
  readonly confirmDownload?: (bytes: number) => Promise<void>;
  /** One download per model across tabs and workers (cross-context.ts); default: none. */
  readonly coordinator?: DownloadCoordinator;
}

/** Same size and validators: the stored bytes (or chunks) still belong to the remote file. */
function sameFile(stored: CachedFile, remote: RemoteFile): boolean {
  return remote.size !== null && stored.size === remote.size && stored.etag === remote.etag && stored.lastModified === remote.lastModified;
}

/** Parses the stored partial record, dropping it (and its chunks) when it is unreadable. */
async function readPartial(store: CacheStore, base: string): Promise<ModelRecord | null> {
  const raw = await store.get(partialKey(base));
  if (raw === undefined) return null;
  try {
    return parseModelRecord(raw, `${base} (partial download)`);
  } catch {
    return null;
  }
}

/**
 * The partial record this download starts from (kept chunks) and the generations of the old one's
 * files it no longer uses (their chunks are stale). Reads only: see {@link dropStale}.
 */
async function planDraft(base: string, files: RemoteFile[], absent: string[], o: DownloadOptions): Promise<{ draft: Draft; stale: CachedFile[] }> {
  const partial = await readPartial(o.store, base);
  const keep = new Set((o.previous?.files ?? []).map((f) => f.generation));
  const stored = await storedChunks(o.store, base);
  const draftFiles: DraftFile[] = files.map((r) => {
    const prev = o.previous?.files.find((f) => f.name === r.name);
    if (prev && o.previous!.chunkSize === o.chunkSize && sameFile(prev, r)) return { ...prev, chunks: [...prev.chunks] };
    const part = partial?.chunkSize === o.chunkSize ? partial.files.find((f) => f.name === r.name) : undefined;
    if (part && sameFile(part, r) && !keep.has(part.generation)) {
      // A chunk the record lists but the store lost (evicted, deleted by hand) is fetched again.
      const chunks = part.chunks.map((c, i) => (c && stored(part, i) ? c : null));
      return { ...part, chunks, sha256: null };
    }
    return { ...r, generation: newGeneration(), chunks: [], sha256: null };
  });
  const used = new Set(draftFiles.map((f) => f.generation));
  const stale = (partial?.files ?? []).filter((f) => !used.has(f.generation) && !keep.has(f.generation));
  return { draft: { version: 1, url: base, chunkSize: o.chunkSize, files: draftFiles, absent, createdAt: Date.now(), complete: false }, stale };
}

/** Deletes the chunks of a partial record's files that the new plan does not use. */
async function dropStale(store: CacheStore, base: string, stale: readonly CachedFile[]): Promise<void> {
  for (const f of stale) await store.deletePrefix(fileChunksPrefix(base, f));
}

/**
 * The manifest another context wrote while this one waited for its turn (cross-context.ts), when it
 * is one this download would have written: complete, newer than the one being refreshed, with the
 * expected hashes. Null: download.
 */
async function completedElsewhere(base: string, o: DownloadOptions): Promise<ModelRecord | null> {
  const raw = await o.store.get(manifestKey(base));
  if (raw === undefined) return null;
  let manifest: ModelRecord;
  try {
    manifest = parseModelRecord(raw, base);
  } catch {
    return null;
  }
  if (o.previous && manifest.createdAt === o.previous.createdAt) return null;
  const expected = (name: string) => o.sha256[name]?.toLowerCase();
  return manifest.files.every((f) => !expected(f.name) || f.sha256 === expected(f.name)) ? manifest : null;
}

/** Throws 'bad-argument' for expected hashes that are malformed or name no file of the folder. */
function checkExpected(base: string, sha256: Readonly<Record<string, string>>, files: readonly { name: string }[]): void {
  for (const [name, hex] of Object.entries(sha256)) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new GptError('bad-argument', `sha256[${JSON.stringify(name)}] for ${base} is ${JSON.stringify(hex)}, expected 64 hex digits.`);
    }
    if (!files.some((f) => f.name === name)) {
      throw new GptError('bad-argument', `sha256 names ${JSON.stringify(name)}, which ${base} does not have (it has ${files.map((f) => f.name).join(', ')}).`);
    }
  }
}

/** SHA-256 of a stored file, read back chunk by chunk (never whole in memory). */
export async function storedFileSha256(store: CacheStore, base: string, f: CachedFile, signal?: AbortSignal): Promise<string> {
  const hash = new Sha256();
  for (let i = 0; i < f.chunks.length; i++) {
    signal?.throwIfAborted();
    const bytes = await store.get<Uint8Array>(chunkKey(base, f, i));
    if (!bytes) throw new GptError('integrity', `${base}${f.name}: chunk ${i} is missing from the cache.`);
    hash.update(bytes);
  }
  return hash.hex();
}

/** Drops a stored file whose SHA-256 is not the expected one, and throws GptError 'integrity'. */
export function hashMismatch(base: string, name: string, expected: string, actual: string): GptError {
  return new GptError(
    'integrity',
    `${base}${name} has SHA-256 ${actual}, expected ${expected.toLowerCase()}. The file was dropped from the cache and will not be used. ` +
      'HINT: the server has a different version of the model than the one described; fix the expected sha256 or the URL.',
  );
}

/**
 * Downloads what is missing and writes the manifest last. On a quota error the partial download is
 * deleted (a half model only takes space a user needs back), never the manifest of another model.
 */
export async function downloadModel(base: string, o: DownloadOptions): Promise<ModelRecord> {
  const { files, absent } = o.folder ?? (await probeFolder(base, o.fetch, o.signal));
  checkExpected(base, o.sha256, files);
  let plan: Awaited<ReturnType<typeof planDraft>> | undefined;
  if (o.confirmDownload && files.every((f) => f.size !== null)) {
    // Asked before this context's turn: a question waiting for its answer must not hold the lock
    // another tab's user (who may already have said yes) needs to start the download.
    plan = await planDraft(base, files, absent, o);
    await o.confirmDownload(plan.draft.files.reduce((n, f) => n + (f.size ?? 0) - storedBytes(f), 0));
  }
  const turn = await (o.coordinator ?? uncoordinated).turn(base, o.onProgress, o.signal);
  try {
    if (turn.shared) {
      // The context that had the turn before may have finished (nothing to do) or left midway
      // (planned again here, from the chunks it stored).
      const done = await completedElsewhere(base, o);
      if (done) return done;
      plan = undefined;
    }
    const { draft, stale } = plan ?? (await planDraft(base, files, absent, o));
    await dropStale(o.store, base, stale);
    return await fetchDraft(base, draft, (p) => {
      o.onProgress(p);
      turn.announce(p);
    }, o);
  } finally {
    turn.release();
  }
}

/** Fetches what `draft` lacks, checks it, and writes the manifest. */
async function fetchDraft(base: string, draft: Draft, onProgress: (p: CacheProgress) => void, o: DownloadOptions): Promise<ModelRecord> {
  const needed = draft.files.reduce((n, f) => n + (f.size ?? 0) - storedBytes(f), 0);
  const meter = new ProgressMeter(onProgress, o.now);
  for (const f of draft.files) meter.addFile(f.name, f.size, storedBytes(f));
  const available = await prepareStorage(o.storage, needed, base, o.onQuotaWarning);
  const keep = new Set((o.previous?.files ?? []).map((f) => f.generation));
  try {
    await writeOrQuota(() => o.store.write([[partialKey(base), structuredClone(draft)]]));
    for (const f of draft.files) {
      for (let attempt = 0; ; attempt++) {
        try {
          await downloadFile({ base, fetch: o.fetch, store: o.store, meter, signal: o.signal }, draft, f, o.chunkSize);
          break;
        } catch (e) {
          if (!isTransient(e) || attempt >= o.retries || o.signal?.aborted) throw e;
          await o.sleep(1000 * (attempt + 1));
        }
      }
      meter.report(f.name, false);
      const expected = o.sha256[f.name]?.toLowerCase();
      if (expected) {
        const actual = await storedFileSha256(o.store, base, f, o.signal);
        if (actual !== expected) {
          await o.store.deletePrefix(fileChunksPrefix(base, f));
          f.chunks = [];
          await o.store.write([[partialKey(base), structuredClone(draft)]]);
          throw hashMismatch(base, f.name, expected, actual);
        }
        f.sha256 = actual;
      }
      if (ggufFileName(base) !== null) await checkStoredGguf(o.store, base, f);
    }
    const manifest = parseModelRecord({ ...structuredClone(draft), complete: true }, `${base} (new manifest)`);
    // The manifest goes in last, in its own transaction, after every chunk transaction completed.
    await writeOrQuota(() => o.store.write([[manifestKey(base), manifest]], [partialKey(base)]));
    for (const f of o.previous?.files ?? []) {
      if (!manifest.files.some((m) => m.generation === f.generation)) await o.store.deletePrefix(fileChunksPrefix(base, f));
    }
    meter.report(draft.files[draft.files.length - 1]!.name, true);
    return manifest;
  } catch (e) {
    if (e instanceof GptError && e.code === 'quota') {
      await o.store.write([], [partialKey(base)]).catch(() => {});
      for (const f of draft.files) {
        if (!keep.has(f.generation)) await o.store.deletePrefix(fileChunksPrefix(base, f)).catch(() => {});
      }
      throw quotaError(base, draft.files.reduce((n, f) => n + (f.size ?? 0), 0), available);
    }
    throw e;
  }
}

async function writeOrQuota(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (isQuotaError(e)) throw new GptError('quota', 'storage quota exceeded');
    throw e;
  }
}
