// Nothing the user types leaves the page: a chat on the real worker (dist/, `npm run build`
// first), with every request recorded three ways: the test server's log of what it answered
// (test/helpers/request-log.mjs: method, URL, headers), the page's resource timing entries, and
// the worker's own (read over a BroadcastChannel from test/helpers/instrumented-worker.js), the
// last two of any origin.
import { expect } from 'chai';
import { deleteCachedModel } from '../../src/cache/index.ts';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { sleep, until } from '../helpers/waits.ts';

const MODEL = '/test/fixtures/generated/smollm2-135m/';
const WORKER = '/test/helpers/instrumented-worker.js';

interface Logged {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}
const serverLog = async (): Promise<Logged[]> => (await fetch('/_request-log')).json();

async function workerResources(): Promise<string[]> {
  const channel = new BroadcastChannel('gpt-chat-test-worker');
  try {
    const answer = new Promise<string[]>((r) => (channel.onmessage = (e) => e.data.resources && r(e.data.resources)));
    channel.postMessage('resources');
    return await answer;
  } finally {
    channel.close();
  }
}

/** Types `text` into the element's input and presses Enter, as a user does. */
async function type(el: GptChat, text: string): Promise<void> {
  const input = el.shadowRoot!.querySelector('textarea')!;
  input.focus();
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
}

describe('<gpt-chat> keeps what the user types on the page', () => {
  it('a chat sends no request but model files and the scripts, and the typed text is in no URL, header or body', async () => {
    // a download, not a load from the cache an earlier test file left: this test watches the requests
    await deleteCachedModel(new URL(MODEL, location.href).href);
    await serverLog(); // a new log from here
    const pageBefore = performance.getEntriesByType('resource').length;
    GptChat.deps = { store: memoryConversationStore() };
    const el = document.createElement('gpt-chat');
    for (const [k, v] of Object.entries({ model: MODEL, 'worker-url': WORKER, engine: 'cpu', temperature: '0', 'max-tokens': '16' })) el.setAttribute(k, v);
    document.body.append(el);
    try {
      await until('ready', () => el.status === ChatStatus.ready);
      const secrets = ['my password is hunter2-7f3a', 'card 4111 1111 1111 1111 exp 12/29'];
      for (const secret of secrets) {
        const before = el.messages.length;
        await type(el, secret);
        await until('the reply', () => el.status === ChatStatus.ready && el.messages.length === before + 2);
        expect(el.messages[before]).to.deep.equal({ role: 'user', content: secret });
      }
      const logged = await serverLog();
      const page = performance.getEntriesByType('resource').slice(pageBefore).map((e) => e.name).filter((u) => !u.endsWith('/_request-log'));
      const worker = await workerResources();

      // Requests with no body (GET, HEAD), to this origin, for the model's files or our scripts.
      const allowed = (path: string) => path.startsWith(MODEL) || path.startsWith('/dist/') || path.startsWith('/test/helpers/instrumented-worker.js');
      for (const r of logged) {
        expect(['GET', 'HEAD'], `${r.method} ${r.url}`).to.include(r.method);
        expect(allowed(new URL(r.url, location.href).pathname), `server saw ${r.url}`).to.equal(true);
      }
      for (const u of [...page, ...worker]) {
        expect(new URL(u).origin, u).to.equal(location.origin);
        expect(allowed(new URL(u).pathname), `requested ${u}`).to.equal(true);
      }
      expect(logged.some((r) => r.url.includes('config.json') || r.url.includes('model.safetensors')) || worker.length > 0, 'the log saw the load').to.equal(true);
      const everything = JSON.stringify([logged, page, worker]);
      for (const secret of secrets) {
        for (const form of [secret, encodeURIComponent(secret), secret.replace(/ /g, '+'), 'hunter2', '4111']) expect(everything, `"${form}" left the page`).not.to.contain(form);
      }
    } finally {
      el.remove();
      GptChat.deps = {};
      await sleep(1100);
    }
  });
});
