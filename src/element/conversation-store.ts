/**
 * Where a conversation lives between page loads when the element has a `persist` key: IndexedDB
 * through idb-keyval, in a database of our own (idb-keyval cannot add a store to another
 * library's database). Stored turns are model and user text only; they are rendered through the
 * same safe markdown path as live replies, so a stored payload is no more dangerous than a live one.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { ChatTurn } from './events.ts';

/** The storage seam: the element takes one as a default parameter, tests pass a map. */
export interface ConversationStore {
  load(key: string): Promise<ChatTurn[]>;
  save(key: string, turns: readonly ChatTurn[]): Promise<void>;
  remove(key: string): Promise<void>;
}

interface Stored {
  readonly version: 1;
  readonly turns: readonly ChatTurn[];
}

/** Only well-formed turns come back; anything else in the store (an old version, junk) is dropped. */
function validTurns(value: unknown): ChatTurn[] {
  const stored = value as Partial<Stored> | undefined;
  if (!stored || stored.version !== 1 || !Array.isArray(stored.turns)) return [];
  return stored.turns
    .filter((t): t is ChatTurn => !!t && (t.role === 'user' || t.role === 'assistant') && typeof t.content === 'string')
    .map((t) => ({ role: t.role, content: t.content }));
}

/** The IndexedDB store (database `gpt-chat-conversations`). */
export function idbConversationStore(dbName = 'gpt-chat-conversations', storeName = 'conversations'): ConversationStore {
  let use: UseStore | undefined;
  // Opened on first use: a page that never persists never creates the database.
  const store = () => (use ??= createStore(dbName, storeName));
  return {
    load: async (key) => validTurns(await get(key, store())),
    save: (key, turns) => set(key, { version: 1, turns: turns.map((t) => ({ role: t.role, content: t.content })) } satisfies Stored, store()),
    remove: (key) => del(key, store()),
  };
}

/** A store in memory (tests, and pages where IndexedDB is unavailable). */
export function memoryConversationStore(): ConversationStore {
  const map = new Map<string, unknown>();
  return {
    load: async (key) => validTurns(map.get(key)),
    save: async (key, turns) => void map.set(key, { version: 1, turns: turns.map((t) => ({ ...t })) }),
    remove: async (key) => void map.delete(key),
  };
}
