/**
 * Where a conversation lives between page loads when the element has a `persist` key: IndexedDB
 * through idb-keyval, in a database of our own (idb-keyval cannot add a store to another
 * library's database). Stored turns are model and user text only; they are rendered through the
 * same safe markdown path as live replies, so a stored payload is no more dangerous than a live one.
 *
 * One record per message, keyed `[persist key, time, writer, sequence]`: a message is one put,
 * never the whole conversation rewritten, so two tabs with the same `persist` key each add theirs
 * and lose nothing; loading reads the key's range, which IndexedDB returns in key order, that is
 * in the order the messages were written (by clock, then writer, then each writer's own order).
 * A tab does not see another's new messages until it loads again (the next page load).
 * Version 1 kept the whole conversation as one `{ version: 1, turns }` value under the key itself;
 * it is read once and rewritten as records (migrated) in the same transaction.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { ChatTurn } from './events.ts';

/**
 * The storage seam: the element takes one as a default parameter, tests pass a memory one. A turn
 * is known by identity: `append` of a turn already stored (undo after clear) puts it back in its place.
 */
export interface ConversationStore {
  /** The stored turns of `key`, oldest first. */
  load(key: string): Promise<ChatTurn[]>;
  /** Stores one new turn after the others. */
  append(key: string, turn: ChatTurn): Promise<void>;
  /** Deletes one stored turn (a reply being regenerated). */
  delete(key: string, turn: ChatTurn): Promise<void>;
  /** Deletes every turn of `key`, also those other tabs added. */
  remove(key: string): Promise<void>;
}

/** `[persist key, ms since epoch, writer, sequence]`; migrated version-1 turns have time 0. */
type RecordKey = [string, number, string, number];

interface StoredTurn {
  readonly version: 2;
  readonly role: ChatTurn['role'];
  readonly content: string;
}

/** A well-formed turn from a stored value, or null (another version, junk). */
function validTurn(value: unknown): ChatTurn | null {
  const t = value as Partial<ChatTurn> | undefined;
  return t && (t.role === 'user' || t.role === 'assistant') && typeof t.content === 'string' ? { role: t.role, content: t.content } : null;
}

/** The turns of a version-1 value (the whole conversation under the key), else none. */
function version1Turns(value: unknown): ChatTurn[] {
  const stored = value as { version?: unknown; turns?: unknown } | undefined;
  if (!stored || stored.version !== 1 || !Array.isArray(stored.turns)) return [];
  return stored.turns.map(validTurn).filter((t): t is ChatTurn => t !== null);
}

/** The same ordered records over any map-like backend: IndexedDB, or memory. */
interface Records {
  /** Every record of `key` in key order, after migrating a version-1 value in the same transaction. */
  readAll(key: string, migrate: (old: unknown) => [RecordKey, StoredTurn][]): Promise<[RecordKey, unknown][]>;
  put(k: RecordKey, v: StoredTurn): Promise<void>;
  del(k: RecordKey): Promise<void>;
  delAll(key: string): Promise<void>;
}

function conversationStore(records: Records): ConversationStore {
  // Record keys of the turns this page knows, by identity.
  const keys = new WeakMap<ChatTurn, RecordKey>();
  const writer = Math.random().toString(36).slice(2, 10);
  let sequence = 0;
  let lastTime = 0;
  return {
    async load(key) {
      const rows = await records.readAll(key, (old) =>
        version1Turns(old).map((t, i) => [[key, 0, '', i], { version: 2, role: t.role, content: t.content }]),
      );
      const turns: ChatTurn[] = [];
      for (const [k, v] of rows) {
        const turn = validTurn(v);
        if (!turn) continue;
        keys.set(turn, k);
        turns.push(turn);
      }
      return turns;
    },
    async append(key, turn) {
      let k = keys.get(turn);
      if (!k || k[0] !== key) {
        // Never earlier than this page's previous message, whatever the clock does.
        lastTime = Math.max(Date.now(), lastTime);
        k = [key, lastTime, writer, sequence++];
        keys.set(turn, k);
      }
      await records.put(k, { version: 2, role: turn.role, content: turn.content });
    },
    async delete(key, turn) {
      const k = keys.get(turn);
      if (k && k[0] === key) await records.del(k);
    },
    remove: (key) => records.delAll(key),
  };
}

const range = (key: string) => IDBKeyRange.bound([key], [key, []]);

/** The IndexedDB store (database `gpt-chat-conversations`). */
export function idbConversationStore(dbName = 'gpt-chat-conversations', storeName = 'conversations'): ConversationStore {
  let use: UseStore | undefined;
  // Opened on first use: a page that never persists never creates the database.
  const store = () => (use ??= createStore(dbName, storeName));
  return conversationStore({
    readAll: (key, migrate) =>
      store()('readwrite', async (s) => {
        const old = await promisifyRequest(s.get(key));
        if (old !== undefined) {
          for (const [k, v] of migrate(old)) s.put(v, k);
          s.delete(key);
        }
        const [ks, vs] = await Promise.all([promisifyRequest(s.getAllKeys(range(key))), promisifyRequest(s.getAll(range(key)))]);
        return ks.map((k, i) => [k as RecordKey, vs[i]] as [RecordKey, unknown]);
      }),
    // Each resolves once its transaction committed: a reload right after finds the message.
    put: (k, v) => store()('readwrite', (s) => (s.put(v, k), promisifyRequest(s.transaction))),
    del: (k) => store()('readwrite', (s) => (s.delete(k), promisifyRequest(s.transaction))),
    // The version-1 value too: a clear in a tab that has not loaded since must not leave it behind.
    delAll: (key) => store()('readwrite', (s) => (s.delete(key), s.delete(range(key)), promisifyRequest(s.transaction))),
  });
}

/** IndexedDB's order of our record keys: element by element, numbers before strings. */
function compareKeys(a: RecordKey, b: RecordKey): number {
  for (let i = 0; i < 4; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return typeof x !== typeof y ? (typeof x === 'number' ? -1 : 1) : x < y ? -1 : 1;
  }
  return 0;
}

/** A store in memory (tests, and pages where IndexedDB is unavailable). `seed` holds version-1 values. */
export function memoryConversationStore(seed: Readonly<Record<string, unknown>> = {}): ConversationStore {
  const old = new Map(Object.entries(seed));
  const rows = new Map<string, [RecordKey, StoredTurn]>();
  const id = (k: RecordKey) => JSON.stringify(k);
  return conversationStore({
    readAll: async (key, migrate) => {
      if (old.has(key)) for (const [k, v] of migrate(old.get(key))) rows.set(id(k), [k, v]);
      old.delete(key);
      return [...rows.values()].filter(([k]) => k[0] === key).sort(([a], [b]) => compareKeys(a, b)).map(([k, v]) => [k, { ...v }]);
    },
    put: async (k, v) => void rows.set(id(k), [k, v]),
    del: async (k) => void rows.delete(id(k)),
    delAll: async (key) => {
      old.delete(key);
      for (const [i, [k]] of rows) if (k[0] === key) rows.delete(i);
    },
  });
}
