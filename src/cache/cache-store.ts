/**
 * The storage seam of the weight cache: a tiny key-value store with prefix queries and
 * all-or-nothing batches. The real one is IndexedDB through idb-keyval; tests and browsers without
 * IndexedDB use the in-memory one. Every other module of src/cache talks only to this interface, so
 * faults (QuotaExceededError, corrupted values) are injected by wrapping it.
 */
import { promisifyRequest, type UseStore } from 'idb-keyval';

/**
 * Keys are arrays so that one model's entries sort together and a prefix is an IndexedDB key
 * range: ['manifest', url], ['partial', url], ['chunk', url, generation, file, index].
 */
export type CacheKey = readonly (string | number)[];

export interface CacheStore {
  /** False for the in-memory fallback: nothing survives a page reload. */
  readonly persistent: boolean;
  /** Resolves false when the backing storage cannot be opened (no IndexedDB, some private modes). */
  available(): Promise<boolean>;
  get<T>(key: CacheKey): Promise<T | undefined>;
  /** Puts and deletes in one transaction: all of it lands or none of it does. */
  write(puts: readonly (readonly [CacheKey, unknown])[], dels?: readonly CacheKey[]): Promise<void>;
  /**
   * Replaces the value at `key` with `change(value)` in one transaction, so nothing written in
   * between is lost; `change` returning undefined leaves it as it is. For records, not bytes (a
   * Blob value reaches `change` as the Blob).
   */
  update<T>(key: CacheKey, change: (value: T | undefined) => T | undefined): Promise<void>;
  /** Every key that starts with `prefix` (element by element), in key order. */
  keys(prefix: CacheKey): Promise<CacheKey[]>;
  /** Every value whose key starts with `prefix`, in key order. */
  values<T>(prefix: CacheKey): Promise<T[]>;
  /** Deletes every entry whose key starts with `prefix`. */
  deletePrefix(prefix: CacheKey): Promise<void>;
}

/** Database and object store of our own: idb-keyval cannot add a store to an existing database. */
const DB_NAME = 'gpt-chat-cache';
const STORE_NAME = 'files';

/**
 * IndexedDB keys that start with `prefix`: arrays compare element by element and an array sorts
 * above every string and number, so `[...prefix, []]` is just past the last key under the prefix.
 */
function prefixRange(prefix: CacheKey): IDBKeyRange {
  return IDBKeyRange.bound([...prefix], [...prefix, []]);
}

/**
 * Byte values of this size and more are put as Blobs. Chromium keeps any large value in a file of its
 * own, but hands a Uint8Array one back by reading that file and deserializing it (a 16 MiB chunk in
 * 200-300 ms in a worker here, ~60 MB/s), while a Blob value comes back at once as a handle whose
 * bytes `arrayBuffer()` reads 2.5-3x faster (bench/ttft-bench.mjs). 64 KiB is Chromium's own
 * threshold for moving a value out of the database; smaller ones stay inline.
 */
const BLOB_BYTES = 64 * 1024;

/** What is put for `value`: large bytes as a Blob (see {@link BLOB_BYTES}), anything else as is. */
function stored(value: unknown): unknown {
  return value instanceof Uint8Array && value.byteLength >= BLOB_BYTES ? new Blob([value as Uint8Array<ArrayBuffer>]) : value;
}

/** What `get` returns for a stored value: the bytes of a Blob; a Uint8Array stored before Blobs as is. */
async function loaded<T>(value: unknown): Promise<T> {
  return (value instanceof Blob ? new Uint8Array(await value.arrayBuffer()) : value) as T;
}

/**
 * The IndexedDB store (database {@link DB_NAME}, object store {@link STORE_NAME}). Byte values are
 * kept as Blobs (see {@link BLOB_BYTES}) and read back as Uint8Arrays, like every other store's.
 */
export function idbStore(dbName = DB_NAME, storeName = STORE_NAME): CacheStore {
  let use: UseStore | undefined;
  // connect opens lazily and throws synchronously where indexedDB.open is forbidden.
  const connection = (): UseStore => {
    if (use) return use;
    const made = connect(dbName, storeName, () => {
      if (use === made) use = undefined;
    });
    return (use = made);
  };
  // A call that races a closing connection fails with InvalidStateError: once more, on a new one.
  const store = (): UseStore => async (mode, callback) => {
    try {
      return await connection()(mode, callback);
    } catch (e) {
      if ((e as { name?: string } | null)?.name !== 'InvalidStateError') throw e;
      use = undefined;
      return connection()(mode, callback);
    }
  };
  return {
    persistent: true,
    async available() {
      if (typeof indexedDB === 'undefined') return false;
      try {
        // Firefox private mode (before 115) fails the open request rather than throwing.
        await store()('readonly', (s) => promisifyRequest(s.count()));
        return true;
      } catch {
        use = undefined;
        return false;
      }
    },
    get: async <T>(key: CacheKey) => loaded<T | undefined>(await store()('readonly', (s) => promisifyRequest(s.get([...key])))),
    write: (puts, dels = []) =>
      store()('readwrite', (s) => {
        for (const key of dels) s.delete([...key]);
        for (const [key, value] of puts) s.put(stored(value), [...key]);
        return promisifyRequest(s.transaction);
      }),
    update: <T>(key: CacheKey, change: (value: T | undefined) => T | undefined) =>
      store()('readwrite', (s) => {
        const read = s.get([...key]);
        read.onsuccess = () => {
          const next = change(read.result as T | undefined);
          if (next !== undefined) s.put(stored(next), [...key]);
        };
        return promisifyRequest(s.transaction);
      }),
    keys: (prefix) =>
      store()('readonly', (s) => promisifyRequest(s.getAllKeys(prefixRange(prefix)))) as Promise<CacheKey[]>,
    values: async <T>(prefix: CacheKey) =>
      Promise.all((await store()('readonly', (s) => promisifyRequest(s.getAll(prefixRange(prefix))))).map((v) => loaded<T>(v))),
    deletePrefix: (prefix) =>
      store()('readwrite', (s) => {
        s.delete(prefixRange(prefix));
        return promisifyRequest(s.transaction);
      }),
  };
}

/**
 * idb-keyval's createStore, plus the two ways a connection ends under us: another tab opening the
 * database at a higher version (`versionchange`: we close ours rather than block its upgrade), and
 * the browser closing it (`close`: Safari after a storage purge or a crash of its IndexedDB
 * process). Either way `forget` runs and the next call opens a new connection.
 */
function connect(dbName: string, storeName: string, forget: () => void): UseStore {
  const request = indexedDB.open(dbName);
  request.onupgradeneeded = () => request.result.createObjectStore(storeName);
  const db = promisifyRequest(request).then((d) => {
    d.onversionchange = () => {
      d.close();
      forget();
    };
    d.onclose = forget;
    return d;
  });
  return (mode, callback) => db.then((d) => callback(d.transaction(storeName, mode).objectStore(storeName)));
}

/** Orders keys like IndexedDB does for the types we use: numbers < strings < arrays. */
function compareKeys(a: CacheKey, b: CacheKey): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}

function startsWith(key: CacheKey, prefix: CacheKey): boolean {
  return prefix.every((p, i) => key[i] === p);
}

/**
 * A store in JS memory: the fallback where IndexedDB is unavailable (the model then lives in memory
 * and is not kept), and the fake store of the Node tests. Values are structured-cloned like
 * IndexedDB does, so a caller mutating a buffer after `write` does not change what was stored.
 */
export function memoryStore(): CacheStore {
  const entries = new Map<string, { key: CacheKey; value: unknown }>();
  const sorted = (prefix: CacheKey) =>
    [...entries.values()].filter((e) => startsWith(e.key, prefix)).sort((a, b) => compareKeys(a.key, b.key));
  return {
    persistent: false,
    available: async () => true,
    get: async <T>(key: CacheKey) => structuredClone(entries.get(JSON.stringify(key))?.value) as T | undefined,
    async write(puts, dels = []) {
      const cloned = puts.map(([key, value]) => [key, structuredClone(value)] as const);
      for (const key of dels) entries.delete(JSON.stringify(key));
      for (const [key, value] of cloned) entries.set(JSON.stringify(key), { key: [...key], value });
    },
    async update<T>(key: CacheKey, change: (value: T | undefined) => T | undefined) {
      const next = change(structuredClone(entries.get(JSON.stringify(key))?.value) as T | undefined);
      if (next !== undefined) entries.set(JSON.stringify(key), { key: [...key], value: structuredClone(next) });
    },
    keys: async (prefix) => sorted(prefix).map((e) => e.key),
    values: async <T>(prefix: CacheKey) => sorted(prefix).map((e) => structuredClone(e.value) as T),
    async deletePrefix(prefix) {
      for (const e of sorted(prefix)) entries.delete(JSON.stringify(e.key));
    },
  };
}

let shared: CacheStore | undefined;
let sharedMemory: CacheStore | undefined;

/** The page-wide IndexedDB store that every cache call uses unless given another. */
export function defaultStore(): CacheStore {
  return (shared ??= idbStore());
}

/**
 * The page-wide in-memory store used when IndexedDB is unavailable, shared so that two elements on
 * one page still download a model once.
 */
export function fallbackMemoryStore(): CacheStore {
  return (sharedMemory ??= memoryStore());
}
