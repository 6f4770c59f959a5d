/**
 * The engine worker's entry (bundled as dist/gpt-chat-worker.js): an {@link InPageEngine} driven
 * by the messages of protocol.ts. One worker holds one model; every element on the page that uses
 * that model talks to it, so the weights exist once.
 */
import { GptError } from '../errors.ts';
import type { EngineEvent } from './engine.ts';
import { InPageEngine } from './in-page-engine.ts';
import { eventLoopTurns } from '../templates/head/fit.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

/** Pages without module workers import this bundle and run the engine on the page. */
export { InPageEngine };

/** The worker side of the protocol over any `postMessage` endpoint (a seam for tests). */
export function serveEngine(
  port: { postMessage(message: WorkerResponse): void; addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void },
  engine = new InPageEngine(),
): void {
  /** Abort controllers of the requests still running, by request id. */
  const running = new Map<number, AbortController>();
  const fail = (id: number, e: unknown) => port.postMessage({ type: 'error', id, error: GptError.from(e).toJSON() });
  /** Posts a generation's events (chat, complete) as `token` replies and the final `done`. */
  const stream = async (id: number, events: AsyncIterable<EngineEvent>) => {
    // On the CPU a forward pass awaits only microtasks: without a macrotask now and then, an
    // `abort` (Stop) would wait in the queue until the reply was complete.
    const turn = eventLoopTurns();
    for await (const event of events) {
      if (event.type === 'token') {
        const { id: token, text, logprob, top } = event;
        port.postMessage(logprob === undefined ? { type: 'token', id, token, text } : { type: 'token', id, token, text, logprob, ...(top ? { top } : {}) });
      }
      else port.postMessage({ ...event, id });
      await turn();
    }
  };

  port.addEventListener('message', async ({ data: request }) => {
    if (request.type === 'abort') {
      running.get(request.id)?.abort();
      return;
    }
    if (request.type === 'stats') {
      port.postMessage({ type: 'stats', id: request.id, stats: { runningRequests: running.size, ...engine.stats() } });
      return;
    }
    const abort = new AbortController();
    running.set(request.id, abort);
    const { id } = request;
    try {
      switch (request.type) {
        case 'load': {
          const info = await engine.load(request.spec, (progress) => port.postMessage({ type: 'progress', id, progress }), abort.signal);
          port.postMessage({ type: 'loaded', id, info });
          break;
        }
        case 'chat':
          await stream(id, engine.chat(request.messages, request.options, abort.signal));
          break;
        case 'warm':
          port.postMessage({ type: 'warmed', id, tokens: await engine.warm(request.messages, abort.signal) });
          break;
        case 'count':
          port.postMessage({ type: 'counted', id, tokens: await engine.countChatTokens(request.messages) });
          break;
        case 'classify':
          port.postMessage({ type: 'scored', id, result: await engine.classify(request.template, request.fields, request.options, abort.signal) });
          break;
        case 'choose':
          port.postMessage({ type: 'scored', id, result: await engine.choose(request.template, request.fields, request.options, abort.signal) });
          break;
        case 'complete':
          await stream(id, engine.complete(request.template, request.fields, request.options, abort.signal));
          break;
        case 'train-head': {
          const head = await engine.trainHead(request.template, request.rows, request.options, (progress) => port.postMessage({ type: 'head-progress', id, progress }), abort.signal);
          port.postMessage({ type: 'head-trained', id, head });
          break;
        }
        case 'count-text':
          port.postMessage({ type: 'counted', id, tokens: await engine.countTokens(request.text) });
          break;
      }
    } catch (e) {
      fail(id, e);
    } finally {
      running.delete(id);
    }
  });
}

// Started as a worker (not imported by a test): serve on the worker's global scope.
declare const WorkerGlobalScope: { new (): unknown } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  const scope = globalThis as unknown as Parameters<typeof serveEngine>[0];
  serveEngine(scope);
  scope.postMessage({ type: 'started', id: 0 });
}
