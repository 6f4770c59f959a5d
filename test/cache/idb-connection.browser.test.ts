// The cache's IndexedDB connection in headless Chromium (real IndexedDB): another tab upgrading
// the database is not blocked by ours, and our store carries on over a new connection. (The
// `close` event, Safari dropping a connection, cannot be produced here; it takes the same path.)
import { expect } from 'chai';
import { idbStore } from '../../src/cache/index.ts';

const DB = 'gpt-chat-connection-test';

function open(version?: number): Promise<{ db: IDBDatabase; blocked: boolean }> {
  return new Promise((resolve, reject) => {
    let blocked = false;
    const request = version === undefined ? indexedDB.open(DB) : indexedDB.open(DB, version);
    request.onblocked = () => (blocked = true);
    request.onsuccess = () => resolve({ db: request.result, blocked });
    request.onerror = () => reject(request.error);
  });
}

describe('the cache connection', () => {
  it('closes on versionchange (another tab upgrading), then reopens and still reads and writes', async () => {
    await new Promise((r) => { const d = indexedDB.deleteDatabase(DB); d.onsuccess = d.onerror = r; });
    const store = idbStore(DB, 'files');
    await store.write([[['k'], 1]]);
    const { db: probe } = await open();
    const version = probe.version;
    probe.close();

    // What a newer gpt-chat in another tab does: open at a higher version. Without our
    // versionchange handler this open stays blocked (no success) until the page closes.
    const upgrade = open(version + 1);
    const timeout = new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), 5000));
    const result = await Promise.race([upgrade, timeout]);
    expect(result).to.not.equal('timed out');
    const { db, blocked } = result as { db: IDBDatabase; blocked: boolean };
    expect(blocked).to.equal(false);
    expect(db.version).to.equal(version + 1);
    db.close();

    expect(await store.get(['k'])).to.equal(1);
    await store.write([[['k'], 2]]);
    expect(await store.get(['k'])).to.equal(2);
  });
});
