// <gpt-chat> on the real engine: the built worker bundle (dist/gpt-chat-worker.js, `npm run build`
// first) running our runtime on a generated fixture model, through the IndexedDB cache.
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { liveWorkerCount } from '../../src/engine/worker-client.ts';
import { sleep, until } from '../helpers/waits.ts';
import { chat, removeChats } from '../helpers/chat-elements.ts';

const MODEL = '/test/fixtures/generated/smollm2-135m/';

afterEach(removeChats);

describe('<gpt-chat> with the worker engine', () => {
  it('two elements on one model share one worker, and both chat', async () => {
    const a = await chat({ model: MODEL });
    const b = await chat({ model: MODEL });
    await until('both ready', () => a.status === ChatStatus.ready && b.status === ChatStatus.ready);
    expect(liveWorkerCount()).to.equal(1);
    const tokens: string[] = [];
    a.addEventListener('gpt-chat-token', (e) => tokens.push(e.detail.text));
    const done = new Promise<string>((r) => a.addEventListener('gpt-chat-message', (e) => r(e.detail.content), { once: true }));
    a.send('hello');
    const reply = await done;
    expect(tokens.length).to.be.greaterThan(1);
    expect(reply).to.equal(tokens.join(''));
    b.send('hi there');
    await until('b answered', () => b.messages.length === 2);
    expect(b.messages[1]!.role).to.equal('assistant');
  });

  it('keeps the page responsive while tokens stream (no main-thread task over 50 ms)', async () => {
    const el = await chat({ model: MODEL, 'max-tokens': '40' });
    await until('ready', () => el.status === ChatStatus.ready);
    const long: number[] = [];
    const observer = new PerformanceObserver((list) => long.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: 'longtask' });
    let tokens = 0;
    el.addEventListener('gpt-chat-token', () => tokens++);
    el.send('tell me a story');
    await until('reply', () => el.status === ChatStatus.ready && el.messages.length === 2);
    await sleep(50);
    observer.disconnect();
    expect(tokens).to.be.greaterThan(5);
    expect(long, 'long tasks (ms) during generation').to.deep.equal([]);
  });

  it('ten send() calls in one tick: one request with one user message, nine refusals that say why', async () => {
    const el = await chat({ model: MODEL, 'max-tokens': '4' });
    await until('ready', () => el.status === ChatStatus.ready);
    const sent = Array.from({ length: 10 }, (_, i) => el.send(`message ${i}`));
    expect(sent).to.deep.equal([true, false, false, false, false, false, false, false, false, false]);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.notice')?.textContent).to.contain('still being written');
    await until('reply', () => el.status === ChatStatus.ready && el.messages.length === 2);
    expect(el.messages.map((m) => m.role)).to.deep.equal(['user', 'assistant']);
    expect(el.messages[0]!.content).to.equal('message 0');
    expect(el.send('message 10')).to.equal(true); // once the reply ended, the next one goes
    await until('second reply', () => el.status === ChatStatus.ready && el.messages.length === 4);
    expect(el.messages[2]!.content).to.equal('message 10');
  });

  it('refuses a megabyte message without tokenizing it, and the next message still gets an answer', async () => {
    const el = await chat({ model: MODEL, 'max-tokens': '4' });
    await until('ready', () => el.status === ChatStatus.ready);
    const codes: string[] = [];
    el.addEventListener('gpt-chat-error', (e) => codes.push(e.detail.code));
    el.send('word '.repeat(200_000));
    await until('refused', () => codes.length === 1);
    expect(codes).to.deep.equal(['context-overflow']);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.error')!.textContent).to.match(/is 999999 characters/) // send() trims the last space;
    el.send('hello'); // the oversized turn is dropped from the context like any old turn
    await until('answer', () => el.status === ChatStatus.ready && el.messages.at(-1)?.role === 'assistant');
    expect(codes).to.deep.equal(['context-overflow']);
  });

  it('says when the model URL cannot be reached', async () => {
    const el = await chat({ model: 'http://127.0.0.1:9/no-server/' });
    await until('error', () => el.status === ChatStatus.error);
    await el.updateComplete;
    const text = el.shadowRoot!.querySelector('.error')!.textContent!;
    expect(text).to.contain('127.0.0.1:9');
    expect(el.shadowRoot!.querySelector('[part="retry-button"]')).to.exist;
  });

  it('says when the URL is not a model folder', async () => {
    let code = '';
    const el = await chat({ model: '/demo/' });
    el.addEventListener('gpt-chat-error', (e) => (code = e.detail.code));
    await until('error', () => el.status === ChatStatus.error);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.error')!.textContent).to.contain('config.json');
    expect(code).to.match(/file-missing|network/);
  });

  it('runs on WebGPU when asked (SwiftShader here)', async () => {
    if (!('gpu' in navigator) || !(await navigator.gpu.requestAdapter())) {
      console.warn('SKIPPED: no WebGPU adapter in this Chromium'); // visible in the runner's browser logs
      return;
    }
    const el = await chat({ model: MODEL, engine: 'webgpu', 'max-tokens': '4' });
    let backend = '';
    el.addEventListener('gpt-chat-ready', (e) => (backend = e.detail.backend));
    await until('ready', () => el.status === ChatStatus.ready, 120_000);
    expect(backend).to.equal('webgpu');
    expect(el.shadowRoot!.querySelector('.header')!.textContent).to.contain('WebGPU');
    el.send('hi');
    await until('reply', () => el.messages.length === 2, 120_000);
  });
});

describe('<gpt-chat> cancelling a real download', () => {
  const control = (body: unknown) => fetch('/test-models/_control', { method: 'POST', body: JSON.stringify(body) });
  const served = async (): Promise<Record<string, number>> => ((await (await fetch('/test-models/_stats')).json()) as { bytes: Record<string, number> }).bytes;

  it('Cancel stops the worker\'s download, keeps the stored chunks, says what is left, and Resume fetches only the rest', async () => {
    // a model-like folder of the test model server (test/helpers/model-server.mjs), served slowly:
    // 40 MB is two whole 16 MiB chunks and a part; its weights are not a real model, so the load
    // ends in an error after the download, which is all this test is about
    const SIZE = 40_000_000;
    const CHUNK = 16 * 1024 * 1024;
    const url = `/test-models/cancel-${SIZE}/`;
    const file = `${url}model.safetensors`;
    await control({ reset: true });
    await control({ faults: [{ file: 'model.safetensors', kind: 'slow', delayMs: 3 }] });
    const el = await chat({ model: url });
    await el.deleteCachedModel(url);
    let loaded = 0;
    el.addEventListener('gpt-chat-load-progress', (e) => e.detail.phase === 'download' && (loaded = e.detail.loaded));
    await until('past the first chunk', () => loaded > CHUNK + 4_000_000, 120_000);
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part="cancel-button"]')!.click();
    await until('the prompt with what is left', () => el.status === ChatStatus.confirm && /left to download/.test(el.shadowRoot!.querySelector('[part="status"]')!.textContent!), 30_000);
    const partial = (await el.listCachedModels()).find((m) => m.url.endsWith(url));
    expect(partial?.complete).to.equal(false);
    expect(partial!.bytes).to.be.at.least(CHUNK);
    const text = el.shadowRoot!.querySelector('[part="status"]')!.textContent!.replace(/\s+/g, ' ');
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    expect(text).to.match(new RegExp(`(\\d+\\.\\d) MB left to download \\(${mb(partial!.bytes).replace('.', '\\.')} already on this device\\)`));
    // nothing more is fetched while the prompt waits
    const before = (await served())[file] ?? 0;
    await sleep(500);
    expect((await served())[file] ?? 0).to.be.at.most(before + 2 * 16 * 1024);

    await control({ reset: true });
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part="download-button"]')!.click();
    await until('the download finished', () => el.status !== ChatStatus.loading, 120_000);
    // the resume asked for the weights file from the end of its stored chunks (Range), no earlier
    const resumed = (await served())[file] ?? 0;
    const kept = SIZE - resumed;
    expect(kept, 'bytes of the weights not fetched again').to.be.at.least(CHUNK);
    expect(kept % CHUNK, 'resumed on a chunk boundary').to.equal(0);
    expect(kept).to.be.at.most(partial!.bytes);
    await el.deleteCachedModel(url);
  });
});
