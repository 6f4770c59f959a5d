// The saved conversation on real IndexedDB: one record per message, two writers (two tabs'
// stores) interleaved in the order written, and version-1 values (the whole conversation under the
// key) read and migrated.
import { expect } from 'chai';
import { createStore, get, set } from 'idb-keyval';
import { idbConversationStore } from '../../src/element/conversation-store.ts';

const user = (content: string) => ({ role: 'user' as const, content });
const assistant = (content: string) => ({ role: 'assistant' as const, content });

describe('conversation store (IndexedDB)', () => {
  it('two writers with one key: every message kept, in the order written; remove clears both', async () => {
    const db = `gpt-chat-conv-test-${Math.random()}`;
    const tabA = idbConversationStore(db);
    const tabB = idbConversationStore(db);
    await tabA.append('k', user('a1'));
    await tabB.append('k', user('b1'));
    const a2 = assistant('a2');
    await tabA.append('k', a2);
    await tabB.append('other', user('elsewhere'));
    expect(await idbConversationStore(db).load('k')).to.deep.equal([user('a1'), user('b1'), a2]);
    await tabA.delete('k', a2); // regenerate in A
    expect(await tabB.load('k')).to.deep.equal([user('a1'), user('b1')]);
    await tabB.remove('k');
    expect(await tabA.load('k')).to.deep.equal([]);
    expect(await tabA.load('other')).to.deep.equal([user('elsewhere')]);
  });

  it('reads a version-1 conversation and migrates it to one record per message', async () => {
    const db = `gpt-chat-conv-test-${Math.random()}`;
    const raw = createStore(db, 'conversations');
    await set('old', { version: 1, turns: [user('before'), assistant('reply'), { role: 'system', content: 'junk' }] }, raw);
    const store = idbConversationStore(db);
    expect(await store.load('old')).to.deep.equal([user('before'), assistant('reply')]);
    expect(await get('old', raw)).to.equal(undefined); // the old value is gone, its turns are records
    await store.append('old', user('after'));
    expect(await idbConversationStore(db).load('old')).to.deep.equal([user('before'), assistant('reply'), user('after')]);
  });
});
