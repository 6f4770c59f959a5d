// <gpt-chat model="…/x.gguf"> on the real engine: the built worker bundle (dist/gpt-chat-worker.js,
// `npm run build` first) downloads one GGUF file of the demo model from the test server
// (test/helpers/model-server.mjs, which counts requests), chats, and on the next load reads it from
// IndexedDB without a single request for the file.
import { expect } from 'chai';
import { clearCache } from '../../src/cache/index.ts';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';
import type { ModelInfo } from '../../src/engine/engine.ts';

const WORKER = '/dist/gpt-chat-worker.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
const stats = async (): Promise<{ requests: Record<string, number> }> => (await fetch('/test-models/_stats')).json();

/** The demo model's most quantized GGUF the fixtures script wrote (Q4_0, or F16 without a quantizer). */
async function ggufPath(): Promise<string> {
  for (const type of ['q4_0', 'f16']) {
    const path = `/test-models/gguf-fixtures/gpt-chat-demo-${type}.gguf`;
    if ((await fetch(path, { method: 'HEAD' })).ok) return path;
  }
  throw new Error('no test/fixtures/generated/gguf/gpt-chat-demo-*.gguf: run `npm run fixtures`');
}

async function element(model: string): Promise<{ el: GptChat; ready: Promise<ModelInfo> }> {
  GptChat.deps = { store: memoryConversationStore() };
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries({ 'worker-url': WORKER, engine: 'cpu', temperature: '0', 'max-tokens': '12', model })) el.setAttribute(k, v);
  const ready = new Promise<ModelInfo>((r) => el.addEventListener('gpt-chat-ready', (e) => r(e.detail), { once: true }));
  document.body.append(el);
  await el.updateComplete;
  return { el, ready };
}

async function reply(el: GptChat, text: string): Promise<string> {
  const done = new Promise<string>((r) => el.addEventListener('gpt-chat-message', (e) => r(e.detail.content), { once: true }));
  el.send(text);
  return done;
}

describe('<gpt-chat> on a GGUF file', () => {
  it('downloads it, chats as the runtime does, and loads it from the cache the next time with no request for it', async () => {
    const path = await ggufPath();
    const url = new URL(path, location.href).href;
    await clearCache();
    await control({ reset: true });

    const first = await element(url);
    expect((await first.ready).fromCache).to.equal(false);
    expect((await stats()).requests[path], 'requests for the file on the first visit').to.be.greaterThan(0);
    const answer = await reply(first.el, 'hiya!');
    // the same file, in this page, on the same runtime: the worker's greedy reply is its reply
    const lm = await loadLanguageModel(url, { backend: 'cpu' });
    let expected = '';
    for await (const t of lm.generate([{ role: 'user', content: 'hiya!' }], { maxTokens: 12, temperature: 0 })) expected += t.text;
    lm.dispose();
    expect(answer.length).to.be.greaterThan(0);
    expect(answer).to.equal(expected);
    first.el.remove();
    await sleep(1100); // the element lets go of its engine (and worker) a second after leaving the page

    await control({ reset: true });
    const second = await element(url);
    const info = await second.ready;
    expect(info.fromCache).to.equal(true);
    // where the load's time went, the worker's start included (measured by the page)
    const t = info.loadTimings ?? {};
    for (const phase of ['workerStart', 'manifest', 'chunkReads', 'hashing', 'parse', 'backend', 'weights', 'upload', 'prepare', 'total'] as const) {
      expect(t[phase], phase).to.be.greaterThan(0);
    }
    expect(second.el.status).to.equal(ChatStatus.ready);
    expect(await reply(second.el, 'hiya!')).to.equal(answer);
    expect((await stats()).requests[path] ?? 0, 'requests for the file when it is cached').to.equal(0);
    second.el.remove();
    GptChat.deps = {};
    await clearCache();
  });
});
