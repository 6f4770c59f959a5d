import type { ConversationStore } from './conversation-store.ts';
import type { ChatTurn } from './events.ts';

/**
 * A conversation's copy on this device, under the element's `persist` key (none: nothing is
 * stored): read once, then every change written as it happens, each after that read so nothing
 * is read back twice. Failures become a notice for the user, never an exception in the chat.
 */
export class StoredConversation {
  #loaded: Promise<unknown> | undefined;

  constructor(
    private readonly store: ConversationStore,
    private readonly key: () => string | undefined,
    private readonly notify: (notice: string) => void,
  ) {}

  /** The stored turns (none without a key, or when they could not be read: then a notice says so). */
  load(): Promise<ChatTurn[]> {
    const key = this.key();
    const turns = key
      ? this.store.load(key).catch(() => {
          this.notify('The saved conversation could not be read; this one will not be kept.');
          return [];
        })
      : Promise.resolve([]);
    this.#loaded = turns;
    return turns;
  }

  /** Stores one change of the conversation, after the stored one was read. */
  async save(change: (store: ConversationStore, key: string) => Promise<void>): Promise<void> {
    const key = this.key();
    if (!key) return;
    await this.#loaded;
    try {
      await change(this.store, key);
    } catch (e) {
      this.notify(`The conversation could not be saved on this device (${e instanceof Error ? e.message : String(e)}).`);
    }
  }
}
