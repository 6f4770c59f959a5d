// Two tabs on one model and one saved conversation: <gpt-chat> in two same-origin iframes, each with
// its own module graph, its own engine worker (the built dist/gpt-chat-worker.js) and the default
// IndexedDB stores. Two iframes share IndexedDB, Web Locks and BroadcastChannel exactly as two tabs
// do; removing an iframe ends its worker as closing a tab does.
import { expect } from 'chai';
import { deleteCachedModel } from '../../src/cache/index.ts';
import { sleep, until as waitUntil } from '../helpers/waits.ts';

const WORKER = '/dist/gpt-chat-worker.js';
const MODEL = 'tabs-smollm2'; // the smollm2-135m fixture, served by test/helpers/model-server.mjs
const MODEL_URL = new URL(`/test-models/${MODEL}/`, location.href).href;
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ gets: Record<string, string[]> }> => (await fetch('/test-models/_stats')).json();

const until = (what: string, ok: () => boolean, timeoutMs = 90_000) => waitUntil(what, ok, timeoutMs, 20);

interface Chat extends HTMLElement {
  status: string;
  messages: readonly { role: string; content: string }[];
  send(text: string): boolean;
}

interface Tab {
  frame: HTMLIFrameElement;
  chat: Chat;
  progress: { phase: string; loaded: number; total: number }[];
  ready: { fromCache: boolean } | undefined;
}

const frames: HTMLIFrameElement[] = [];

/** A "tab": an iframe whose page imports the element and shows one <gpt-chat>. */
async function tab(attrs: Record<string, string>): Promise<Tab> {
  const frame = document.createElement('iframe');
  const attributes = Object.entries({ 'worker-url': WORKER, engine: 'cpu', temperature: '0', 'max-tokens': '6', ...attrs })
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');
  frame.srcdoc = `<!doctype html><script type="module">import '/src/gpt-chat.ts';</script><gpt-chat ${attributes} style="height:300px"></gpt-chat>`;
  const loaded = new Promise((r) => frame.addEventListener('load', r, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  const chat = frame.contentDocument!.querySelector('gpt-chat') as Chat;
  const t: Tab = { frame, chat, progress: [], ready: undefined };
  chat.addEventListener('gpt-chat-load-progress', (e) => t.progress.push((e as CustomEvent).detail));
  chat.addEventListener('gpt-chat-ready', (e) => (t.ready = (e as CustomEvent).detail));
  await until('the element to upgrade', () => typeof chat.send === 'function');
  return t;
}

async function exchange(t: Tab, text: string): Promise<void> {
  const before = t.chat.messages.length;
  expect(t.chat.send(text)).to.equal(true);
  await until(`the reply to "${text}"`, () => t.chat.status === 'ready' && t.chat.messages.length === before + 2);
}

afterEach(async () => {
  for (const f of frames.splice(0)) f.remove();
  await sleep(100);
});

describe('<gpt-chat> in two tabs (two iframes)', () => {
  it('one download for both: the second shows the first one\'s progress and loads from the cache', async () => {
    await deleteCachedModel(MODEL_URL);
    await control({ reset: true, faults: [{ file: 'model.safetensors', kind: 'slow', delayMs: 60 }] });

    const a = await tab({ model: MODEL_URL });
    await until('the first tab downloading', () => a.progress.some((p) => p.phase === 'download' && p.loaded > 0 && p.loaded < p.total));
    const b = await tab({ model: MODEL_URL });
    await until('both ready', () => a.chat.status === 'ready' && b.chat.status === 'ready');
    // The second tab's bar moved with the first tab's download, before the model was complete.
    expect(b.progress.some((p) => p.phase === 'download' && p.loaded > 0 && p.loaded < p.total)).to.equal(true);
    // Each file of the model came from the server once.
    const { gets } = await stats();
    const model = Object.entries(gets).filter(([path]) => path.startsWith(`/test-models/${MODEL}/`));
    expect(model.length).to.be.greaterThan(2);
    for (const [path, ranges] of model) expect(ranges, path).to.deep.equal(['']);
    expect(a.ready!.fromCache).to.equal(false);
    await exchange(b, 'hello');
  });

  it('two tabs with one persist key each add messages; a reload shows all of them in order', async () => {
    const key = `two-tabs-${Math.random()}`;
    const a = await tab({ model: MODEL_URL, persist: key });
    const b = await tab({ model: MODEL_URL, persist: key });
    await until('both ready', () => a.chat.status === 'ready' && b.chat.status === 'ready');
    await exchange(a, 'first from A');
    await exchange(b, 'first from B');
    await exchange(a, 'second from A');
    await sleep(200); // the last reply is stored right after it ends
    a.frame.remove();
    b.frame.remove();
    const reloaded = await tab({ model: MODEL_URL, persist: key });
    await until('restored', () => reloaded.chat.messages.length === 6);
    const users = reloaded.chat.messages.filter((m) => m.role === 'user').map((m) => m.content);
    expect(users).to.deep.equal(['first from A', 'first from B', 'second from A']);
    expect(reloaded.chat.messages.map((m) => m.role)).to.deep.equal(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });
});
