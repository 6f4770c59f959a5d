// <gpt-chat> under stress, on the real engine worker (dist/gpt-chat-worker.js, `npm run build`
// first) and a generated fixture model: a worker that crashes mid-reply, and 100 rapid send/stop
// cycles counted for leaks (requests, generations, KV cache, backend memory).
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import type { ModelInfo } from '../../src/engine/engine.ts';
import { liveWorkerCount } from '../../src/engine/worker-client.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { until as waitUntil } from '../helpers/waits.ts';
import { chat, removeChats } from '../helpers/chat-elements.ts';
import { idleWorkerStats } from '../helpers/worker-idle.ts';

/** The real worker plus a fault armed, and a request list read, over a BroadcastChannel (see the file). */
const INSTRUMENTED_WORKER = '/test/helpers/instrumented-worker.js';
const MODEL = '/test/fixtures/generated/smollm2-135m/';

const until = (what: string, ok: () => boolean, timeoutMs = 60_000) => waitUntil(what, ok, timeoutMs, 5);

afterEach(removeChats);

/** Counts the workers the page starts, by watching the Worker constructor (nothing is replaced). */
function countWorkers(): { readonly started: string[]; restore(): void } {
  const Real = globalThis.Worker;
  const started: string[] = [];
  globalThis.Worker = class extends Real {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      started.push(String(url));
    }
  };
  return { started, restore: () => void (globalThis.Worker = Real) };
}

/** The next reply of `el` to `text`, whole. */
function reply(el: GptChat, text: string): Promise<string> {
  const done = new Promise<string>((r) => el.addEventListener('gpt-chat-message', (e) => r(e.detail.content), { once: true }));
  expect(el.send(text)).to.equal(true);
  return done;
}

describe('<gpt-chat> under stress (real worker)', () => {
  it('a worker that crashes mid-reply is reported as a crash, and the next message starts a fresh worker that loads from the cache', async () => {
    const workers = countWorkers();
    try {
      const el = await chat({ model: MODEL, 'worker-url': INSTRUMENTED_WORKER, 'max-tokens': '200' });
      await until('ready', () => el.status === ChatStatus.ready);
      expect(workers.started).to.have.length(1);

      // Arm the fault: the worker throws, uncaught, right after posting its third token.
      const channel = new BroadcastChannel('gpt-chat-test-worker');
      const armed = new Promise((r) => (channel.onmessage = r));
      channel.postMessage('arm');
      await armed;
      channel.close();

      const errors: { code: string; message: string }[] = [];
      el.addEventListener('gpt-chat-error', (e) => errors.push(e.detail));
      let tokens = 0;
      el.addEventListener('gpt-chat-token', () => tokens++);
      el.send('tell me a long story');
      await until('the crash to be reported', () => errors.length > 0);
      expect(errors[0]!.code).to.equal('worker-crashed');
      expect(errors[0]!.message).to.match(/engine worker crashed \(.*test fault/);
      expect(errors[0]!.message).to.match(/press Retry or send the message again/);
      expect(errors[0]!.message).not.to.match(/could not start/);
      expect(tokens, 'tokens before the crash ended the reply').to.be.within(3, 199);
      await el.updateComplete;
      expect(el.shadowRoot!.querySelector('.error')?.textContent).to.contain('engine worker crashed');

      // The next message: a new worker, the model from this device's cache, a reply.
      const ready = new Promise<ModelInfo>((r) => el.addEventListener('gpt-chat-ready', (e) => r(e.detail), { once: true }));
      const answer = reply(el, 'hello again');
      expect((await ready).fromCache, 'the model came from the cache').to.equal(true);
      expect(await answer).to.be.a('string').and.not.equal('');
      expect(workers.started, 'workers started').to.have.length(2);
      expect(liveWorkerCount()).to.equal(1);
      expect(el.status).to.equal(ChatStatus.ready);
      expect(el.messages.at(-1)).to.deep.include({ role: 'assistant' });
    } finally {
      workers.restore();
    }
  });

  it('a worker script that cannot load is reported as "could not start", not as a crash', async () => {
    const errors: { code: string; message: string }[] = [];
    document.addEventListener('gpt-chat-error', (e) => errors.push((e as CustomEvent).detail), { once: true });
    const el = await chat({ model: MODEL, 'worker-url': '/test/helpers/no-such-worker.js' });
    await until('the error', () => el.status === ChatStatus.error);
    expect(errors[0]).to.include({ code: 'network' });
    expect(errors[0]!.message).to.contain('could not start');
  });

  it('100 rapid send/stop cycles leave no request, generation, KV state or backend memory behind', async function () {
    this.timeout(300_000);
    const el = await chat({ model: MODEL, 'max-tokens': '24' });
    await until('ready', () => el.status === ChatStatus.ready);
    const before = await reply(el, 'hello');
    const baseline = await idleWorkerStats(); // the warm-up after the reply done
    expect(baseline, 'one live worker').to.not.equal(undefined);
    expect(baseline).to.include({ pendingRequests: 0, runningRequests: 0, activeGenerations: 0 });
    expect(baseline!.backendBytes).to.be.greaterThan(0);
    el.clear();

    const ends: string[] = [];
    el.addEventListener('gpt-chat-message', (e) => ends.push(`${e.detail.finishReason}:${e.detail.content.length}`));
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      let tokens = 0;
      const onToken = () => tokens++;
      el.addEventListener('gpt-chat-token', onToken);
      const ended = new Promise((r) => el.addEventListener('gpt-chat-message', r, { once: true }));
      expect(el.send(`cycle ${i}`), `send ${i}`).to.equal(true);
      // Half the stops come at once (before the request reaches the worker), half after a token.
      if (i % 2) await until(`a token in cycle ${i}`, () => tokens > 0);
      el.stop();
      await ended;
      el.removeEventListener('gpt-chat-token', onToken);
      expect(el.status, `status after cycle ${i}`).to.equal(ChatStatus.ready);
    }
    console.log(`100 send/stop cycles: ${Math.round(performance.now() - t0)} ms`);
    expect(ends, 'one end per cycle').to.have.length(100);
    // A stop pressed at once ends the reply before any token. One pressed after the first token
    // often loses the race on this tiny model (a whole reply takes the worker a few ms); the Node
    // test "Stop reaches a generation that never yields" holds that an abort gets in.
    expect(ends.filter((_, i) => i % 2 === 0), 'immediate stops').to.deep.equal(Array(50).fill('aborted:0'));

    const after = await idleWorkerStats();
    expect(after, 'the same single worker').to.include({ pendingRequests: 0, runningRequests: 0, activeGenerations: 0, backendBytes: baseline!.backendBytes });
    expect(after!.kvPosition).to.be.within(1, el.contextLength!);
    expect(liveWorkerCount()).to.equal(1);

    // The KV cache holds nothing stale: the same greedy reply to the same first message.
    el.clear();
    expect(await reply(el, 'hello')).to.equal(before);
  });
});
