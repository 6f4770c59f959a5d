// The engine seam in Node: the in-page engine over a fake model, and the worker protocol end to end
// (client -> WorkerConnection -> serveEngine -> engine) over a real MessageChannel.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, EngineEvent, EngineLoadProgress } from '../../src/engine/engine.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import type { LoadedModel, ModelLoader } from '../../src/engine/load-model.ts';
import { WorkerClient, liveWorkerCount } from '../../src/engine/worker-client.ts';
import { serveEngine } from '../../src/engine/worker.ts';
import { GptError } from '../../src/errors.ts';

/** A model that replies with the words of `reply`, one token each, waiting a tick per token. */
function fakeModel(reply = 'one two three', log: string[] = []): LoadedModel {
  return {
    backendKind: 'cpu',
    contextLength: 64,
    config: { modelType: 'fake' },
    async *generate(messages, options) {
      log.push('start ' + messages[messages.length - 1]!.content);
      const words = reply.split(' ');
      let n = 0;
      for (const [i, w] of words.entries()) {
        if (n >= (options.maxTokens ?? 99)) return { finishReason: 'length', promptTokens: 3, generatedTokens: n };
        await new Promise((r) => setTimeout(r, 2));
        if (options.signal?.aborted) return { finishReason: 'aborted', promptTokens: 3, generatedTokens: n };
        n++;
        yield { id: i, text: (i ? ' ' : '') + w };
      }
      log.push('end');
      return { finishReason: 'eos', promptTokens: 3, generatedTokens: n };
    },
    encode: (messages: readonly ChatMessage[]) => messages.flatMap((m) => m.content.split(' ')).map(() => 1),
    dispose: () => log.push('dispose'),
  };
}

/** A loader that counts its calls and reports two progress steps. */
function countingLoader(model = fakeModel()): ModelLoader & { calls: number } {
  const loader = (async (_spec, onProgress, signal) => {
    loader.calls++;
    onProgress({ phase: 'download', loaded: 5, total: 10 });
    await new Promise((r) => setTimeout(r, 5));
    signal.throwIfAborted();
    onProgress({ phase: 'download', loaded: 10, total: 10 });
    return { model, fromCache: false };
  }) as ModelLoader & { calls: number };
  loader.calls = 0;
  return loader;
}

async function collect(events: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const hello: ChatMessage[] = [{ role: 'user', content: 'hi' }];

describe('InPageEngine', () => {
  it('shares one load among concurrent callers and reports progress to each', async () => {
    const loader = countingLoader();
    const engine = new InPageEngine(loader);
    const a: EngineLoadProgress[] = [];
    const b: EngineLoadProgress[] = [];
    const [ia, ib] = await Promise.all([engine.load({ url: 'http://x/m' }, (p) => a.push(p)), engine.load({ url: 'http://x/m/' }, (p) => b.push(p))]);
    expect(loader.calls).toBe(1);
    expect(ia).toEqual(ib);
    expect(ia).toMatchObject({ modelType: 'fake', backend: 'cpu', contextLength: 64, fromCache: false });
    expect(a.at(-1)?.loaded).toBe(10);
    expect(b.at(-1)?.loaded).toBe(10);
    await engine.load({ url: 'http://x/m/' });
    expect(loader.calls).toBe(1); // already loaded
  });

  it('streams tokens then done, and runs one generation at a time', async () => {
    const log: string[] = [];
    const engine = new InPageEngine(countingLoader(fakeModel('a b', log)));
    await engine.load({ url: 'http://x/m/' });
    const [first, second] = await Promise.all([collect(engine.chat([{ role: 'user', content: '1' }], {})), collect(engine.chat([{ role: 'user', content: '2' }], {}))]);
    expect(first.map((e) => (e.type === 'token' ? e.text : e.finishReason))).toEqual(['a', ' b', 'eos']);
    expect(second.at(-1)).toMatchObject({ type: 'done', finishReason: 'eos', generatedTokens: 2 });
    expect(log).toEqual(['start 1', 'end', 'start 2', 'end']);
  });

  it('ends with finishReason aborted when the signal fires mid-stream', async () => {
    const engine = new InPageEngine(countingLoader(fakeModel('a b c d e f g h')));
    await engine.load({ url: 'http://x/m/' });
    const abort = new AbortController();
    const events: EngineEvent[] = [];
    for await (const e of engine.chat(hello, {}, abort.signal)) {
      events.push(e);
      if (events.length === 2) abort.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'aborted' });
    expect(events.filter((e) => e.type === 'token').length).toBeLessThan(8);
  });

  it('says to load first, and aborts a load whose only caller went away', async () => {
    const engine = new InPageEngine(countingLoader());
    await expect(engine.countChatTokens(hello)).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/load\(spec\)/) });
    const abort = new AbortController();
    const loading = engine.load({ url: 'http://x/m/' }, undefined, abort.signal);
    abort.abort();
    await expect(loading).rejects.toMatchObject({ code: 'aborted' });
  });

  it('passes loader errors through as GptError', async () => {
    const engine = new InPageEngine(async () => {
      throw new GptError('file-missing', 'config.json is missing from http://x/m/');
    });
    await expect(engine.load({ url: 'http://x/m/' })).rejects.toMatchObject({ code: 'file-missing', message: expect.stringContaining('config.json') });
  });
});

/** A "worker" that is a MessageChannel port served by serveEngine in this same thread. */
function channelWorkerFactory(engine: InPageEngine, started: { count: number }) {
  return (): Worker => {
    started.count++;
    const { port1, port2 } = new MessageChannel();
    serveEngine(port2 as unknown as Parameters<typeof serveEngine>[0], engine);
    port2.start();
    port1.start();
    return Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
  };
}

describe('WorkerClient over the protocol', () => {
  it('loads, streams, counts and shares one worker per model', async () => {
    const loader = countingLoader(fakeModel('x y z'));
    const started = { count: 0 };
    const startWorker = channelWorkerFactory(new InPageEngine(loader), started);
    const a = new WorkerClient({ workerUrl: 'http://cdn.test/w.js', startWorker });
    const b = new WorkerClient({ workerUrl: 'http://cdn.test/w.js', startWorker });
    const progress: EngineLoadProgress[] = [];
    const [info] = await Promise.all([a.load({ url: 'http://x/m/' }, (p) => progress.push(p)), b.load({ url: 'http://x/m/' })]);
    expect(started.count).toBe(1);
    expect(liveWorkerCount()).toBe(1);
    expect(loader.calls).toBe(1);
    expect(info.modelType).toBe('fake');
    expect(progress.map((p) => p.loaded)).toEqual([5, 10]);
    const events = await collect(b.chat(hello, { maxTokens: 2 }));
    expect(events).toEqual([
      { type: 'token', id: 0, text: 'x' },
      { type: 'token', id: 1, text: ' y' },
      { type: 'done', finishReason: 'length', promptTokens: 3, generatedTokens: 2 },
    ]);
    expect(await a.countChatTokens([{ role: 'user', content: 'a b c' }])).toBe(3);
    a.dispose();
    expect(liveWorkerCount()).toBe(1); // b still holds it
    b.dispose();
    expect(liveWorkerCount()).toBe(0);
  });

  it('a large download asks across the worker; the go-ahead of one element answers the other too', async () => {
    let loads = 0;
    const loader: ModelLoader = async (_spec, onProgress, _signal, confirmDownload) => {
      loads++;
      await confirmDownload?.(300e6);
      onProgress({ phase: 'download', loaded: 300e6, total: 300e6 });
      return { model: fakeModel(), fromCache: false };
    };
    const startWorker = channelWorkerFactory(new InPageEngine(loader), { count: 0 });
    const a = new WorkerClient({ workerUrl: 'http://cdn.test/w-ask.js', startWorker });
    const b = new WorkerClient({ workerUrl: 'http://cdn.test/w-ask.js', startWorker });
    const asked: { who: string; p: EngineLoadProgress }[] = [];
    const waitA = a.load({ url: 'http://x/big', confirmAbove: 50e6 }, (p) => asked.push({ who: 'a', p }));
    await expect.poll(() => asked.length).toBe(1);
    // b asks too and hears the question that is already waiting.
    const waitB = b.load({ url: 'http://x/big/', confirmAbove: 50e6 }, (p) => asked.push({ who: 'b', p }));
    await expect.poll(() => asked.length).toBe(2);
    expect(asked.map(({ who, p }) => `${who} ${p.phase} ${p.total}`)).toEqual(['a confirm 300000000', 'b confirm 300000000']);
    const goAhead = await b.load({ url: 'http://x/big/' }); // b's Download button
    const [infoA, infoB] = await Promise.all([waitA, waitB]);
    expect(infoA).toEqual(goAhead);
    expect(infoB).toEqual(goAhead);
    expect(loads).toBe(1);
    expect(asked.filter(({ p }) => p.phase === 'download').map(({ who }) => who).sort()).toEqual(['a', 'b']);
    a.dispose();
    b.dispose();
  });

  it('rebuilds worker errors as GptError with their code', async () => {
    const engine = new InPageEngine(async () => {
      throw new GptError('network', 'Could not reach http://x/m/config.json. HINT: check the URL.');
    });
    const client = new WorkerClient({ workerUrl: 'http://cdn.test/w2.js', startWorker: channelWorkerFactory(engine, { count: 0 }) });
    const error = await client.load({ url: 'http://x/m/' }).catch((e) => e);
    expect(error).toBeInstanceOf(GptError);
    expect(error).toMatchObject({ code: 'network', message: expect.stringContaining('HINT') });
    client.dispose();
  });

  it('Stop reaches a generation that never yields a macrotask (as the CPU path): the worker lets the abort in', async () => {
    // A model whose tokens come after microtasks only, as a CPU forward pass does: the abort
    // message waits in the queue unless the worker yields now and then.
    const busy: LoadedModel = {
      ...fakeModel(),
      async *generate(_messages, options) {
        let n = 0;
        for (; n < 50_000 && !options.signal?.aborted; n++) {
          await Promise.resolve();
          const start = performance.now();
          while (performance.now() - start < 0.05); // a forward pass's worth of work
          yield { id: n, text: 'x' };
        }
        return { finishReason: options.signal?.aborted ? 'aborted' : 'length', promptTokens: 1, generatedTokens: n };
      },
    };
    const client = new WorkerClient({ workerUrl: 'http://cdn.test/w-busy.js', startWorker: channelWorkerFactory(new InPageEngine(countingLoader(busy)), { count: 0 }) });
    await client.load({ url: 'http://x/m/' });
    const abort = new AbortController();
    let tokens = 0;
    let end: EngineEvent | undefined;
    for await (const e of client.chat(hello, {}, abort.signal)) {
      if (e.type === 'token' && ++tokens === 1) abort.abort();
      if (e.type === 'done') end = e;
    }
    expect(end).toMatchObject({ finishReason: 'aborted' });
    expect(end).toHaveProperty('generatedTokens');
    expect((end as { generatedTokens: number }).generatedTokens).toBeLessThan(5_000); // ~20 ms of tokens, not 50 000
    client.dispose();
  });

  it('a chat whose signal is already aborted ends at once, without asking the worker to generate', async () => {
    const log: string[] = [];
    const client = new WorkerClient({ workerUrl: 'http://cdn.test/w-pre.js', startWorker: channelWorkerFactory(new InPageEngine(countingLoader(fakeModel('a b', log))), { count: 0 }) });
    await client.load({ url: 'http://x/m/' });
    const abort = new AbortController();
    abort.abort();
    expect(await collect(client.chat(hello, {}, abort.signal))).toEqual([{ type: 'done', finishReason: 'aborted', promptTokens: 0, generatedTokens: 0 }]);
    expect(log).toEqual([]);
    client.dispose();
  });

  it('aborts a chat in the worker when the signal fires', async () => {
    const client = new WorkerClient({ workerUrl: 'http://cdn.test/w3.js', startWorker: channelWorkerFactory(new InPageEngine(countingLoader(fakeModel('a b c d e f g h i j'))), { count: 0 }) });
    await client.load({ url: 'http://x/m/' });
    const abort = new AbortController();
    const events: EngineEvent[] = [];
    for await (const e of client.chat(hello, {}, abort.signal)) {
      events.push(e);
      if (events.length === 1) abort.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'aborted' });
    client.dispose();
  });
});
