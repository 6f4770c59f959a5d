// Engine.warm's turn-taking in Node, over a fake model whose warm-up is a forward pass we hold
// open: idle work only, never two model calls at once, and a chat arriving meanwhile aborts it and
// waits only for the pass in flight. Through the worker protocol too (a real MessageChannel).
import { describe, expect, it } from 'vitest';
import type { ChatMessage, EngineEvent } from '../../src/engine/engine.ts';
import { InPageEngine } from '../../src/engine/in-page-engine.ts';
import type { LoadedModel } from '../../src/engine/load-model.ts';
import { WorkerClient } from '../../src/engine/worker-client.ts';
import { serveEngine } from '../../src/engine/worker.ts';

/** A model whose warm-up runs one "forward pass" until `finishPass()`, then checks its signal. */
function heldModel(log: string[]) {
  let finishPass: () => void = () => {};
  let busy = 0;
  const model: LoadedModel = {
    backendKind: 'cpu',
    contextLength: 64,
    config: { modelType: 'fake' },
    async warm(messages, signal) {
      if (busy++) log.push('two calls at once');
      log.push('warm start');
      await new Promise<void>((r) => (finishPass = r));
      busy--;
      if (signal?.aborted) {
        log.push('warm aborted');
        throw new DOMException('aborted', 'AbortError');
      }
      log.push('warm done');
      return messages.length * 10;
    },
    async *generate() {
      if (busy++) log.push('two calls at once');
      log.push('chat');
      busy--;
      yield { id: 1, text: 'ok' };
      return { finishReason: 'eos', promptTokens: 12, cachedPromptTokens: 10, generatedTokens: 1 };
    },
    encode: () => [1],
    dispose: () => {},
  };
  return { model, finish: () => finishPass() };
}

const tick = () => new Promise((r) => setTimeout(r, 10));
const conversation: ChatMessage[] = [{ role: 'system', content: 'be brief' }];

async function collect(events: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('Engine.warm', () => {
  it('resolves with the tokens cached, and a chat during it waits for the pass in flight, then aborts it', async () => {
    const log: string[] = [];
    const { model, finish } = heldModel(log);
    const engine = new InPageEngine(async () => ({ model, fromCache: true }));
    await engine.load({ url: 'https://example.com/m/' });
    const first = engine.warm(conversation);
    await tick();
    finish();
    expect(await first).toBe(10);

    const warming = engine.warm(conversation);
    await tick();
    const chat = collect(engine.chat([...conversation, { role: 'user', content: 'hi' }], {}));
    await tick();
    expect(log.at(-1), 'the chat waits for the pass in flight').toBe('warm start');
    finish();
    expect(await warming).toBe(0); // given way: nothing to report, no error
    const events = await chat;
    expect(log.slice(-2)).toEqual(['warm aborted', 'chat']);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'eos', promptTokens: 12, cachedPromptTokens: 10, generatedTokens: 1 });
    expect(log).not.toContain('two calls at once');
  });

  it('does nothing while a chat runs or waits', async () => {
    const log: string[] = [];
    const { model } = heldModel(log);
    const engine = new InPageEngine(async () => ({ model, fromCache: true }));
    await engine.load({ url: 'https://example.com/m/' });
    const chat = engine.chat([{ role: 'user', content: 'hi' }], {})[Symbol.asyncIterator]();
    const first = chat.next(); // the chat has begun
    expect(await engine.warm(conversation)).toBe(0);
    await first;
    while (!(await chat.next()).done);
    expect(log).toEqual(['chat']);
  });

  it('crosses the worker protocol, and an abort from the client stops it', async () => {
    const log: string[] = [];
    const { model, finish } = heldModel(log);
    const { port1, port2 } = new MessageChannel();
    serveEngine(port2 as unknown as Parameters<typeof serveEngine>[0], new InPageEngine(async () => ({ model, fromCache: true })));
    port2.start();
    port1.start();
    const startWorker = () => Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
    const client = new WorkerClient({ startWorker, workerUrl: 'http://cdn.test/w-warm.js' });
    await client.load({ url: 'https://example.com/m/' });
    const done = client.warm(conversation);
    await tick();
    finish();
    expect(await done).toBe(10);

    const abort = new AbortController();
    const aborted = client.warm(conversation, abort.signal);
    await tick();
    abort.abort();
    await tick();
    finish();
    expect(await aborted).toBe(0);
    expect(log.at(-1)).toBe('warm aborted');
    client.dispose();
  });
});
