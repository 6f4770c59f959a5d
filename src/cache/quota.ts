/**
 * Storage quota: warn before a download that will not fit, ask for persistent storage so the
 * browser does not evict a 1 GB model under pressure, and turn QuotaExceededError into a message
 * that says how much was needed and what to delete.
 */
import { GptError } from '../errors.ts';

/** Passed to `onQuotaWarning` when the estimate says the model will not fit. */
export interface QuotaWarning {
  /** Bytes the download still has to store. */
  readonly needed: number;
  /** Bytes the browser says are free for this origin (quota minus usage). */
  readonly available: number;
  readonly message: string;
}

/** The part of `navigator.storage` the cache uses (a parameter so tests pass their own). */
export type StorageLike = Pick<StorageManager, 'estimate'> & Partial<Pick<StorageManager, 'persist' | 'persisted'>>;

/** Human-readable bytes: "312.4 MB". */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Free bytes for this origin, or null when the browser does not say. */
export async function availableBytes(storage: StorageLike | undefined): Promise<number | null> {
  try {
    const { quota, usage } = (await storage?.estimate()) ?? {};
    return quota === undefined ? null : quota - (usage ?? 0);
  } catch {
    return null;
  }
}

/**
 * Compares the estimate with what the download still needs (calls `warn` when it will not fit; the
 * download still tries, since estimates are coarse) and asks for persistent storage. Returns the
 * free bytes for later messages.
 */
export async function prepareStorage(
  storage: StorageLike | undefined,
  needed: number,
  url: string,
  warn?: (w: QuotaWarning) => void,
): Promise<number | null> {
  const available = await availableBytes(storage);
  if (available !== null && needed > available) {
    warn?.({
      needed,
      available,
      message: `${url} needs ${formatBytes(needed)} of storage but the browser reports ${formatBytes(available)} free. ` +
        'The download will probably fail: delete cached models you no longer use (listCachedModels / deleteCachedModel) or free disk space.',
    });
  }
  try {
    // Chromium grants this silently to sites with engagement and denies it in incognito; either
    // answer is fine, it only makes eviction under storage pressure less likely.
    if (storage?.persist && !(await storage.persisted?.())) await storage.persist();
  } catch {
    // persist() is best effort.
  }
  return available;
}

/** The GptError 'quota' thrown when a write hit the quota mid-download. */
export function quotaError(url: string, needed: number, available: number | null): GptError {
  return new GptError(
    'quota',
    `The browser's storage is full: ${url} needs ${formatBytes(needed)}` +
      (available === null ? '' : ` and about ${formatBytes(available)} was free`) +
      '. Nothing of this download was kept as complete (its partial chunks were deleted); other cached models are untouched. ' +
      'HINT: delete cached models you no longer use (listCachedModels() shows their sizes, deleteCachedModel(url) removes one) or free disk space, then load again.',
  );
}
