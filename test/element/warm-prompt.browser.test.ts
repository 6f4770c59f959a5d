// warm-prompt: while the visitor types, the worker prefills the prompt the next send begins with
// (system prompt, earlier turns), so the send reads only its new turn. Through the built worker
// (dist/gpt-chat-worker.js) on a fixture model: what the worker reports it took from its KV cache,
// and the greedy reply, the same as an element with the warm-up off (a worker of its own).
import { expect } from 'chai';
import { ChatStatus } from '../../src/element/chat-controller.ts';
import { workerStats } from '../../src/engine/worker-client.ts';
import type { GptChat } from '../../src/gpt-chat.ts';
import { until } from '../helpers/waits.ts';
import { idleWorkerStats } from '../helpers/worker-idle.ts';
import { chat, removeChats, WORKER } from '../helpers/chat-elements.ts';

const MODEL = '/test/fixtures/generated/smollm2-135m/';
const SYSTEM = 'You are a helpful assistant. Answer in one short sentence, and be kind to the visitor.';
/** The warm-up off, on a worker of its own (same script, another URL), so no cache is shared. */
const COLD = { 'warm-prompt': 'off', 'worker-url': `${WORKER}?cold` };

type Done = HTMLElementEventMap['gpt-chat-message']['detail'];

afterEach(removeChats);

/** Sends `text` and resolves with the reply's gpt-chat-message detail. */
function send(el: GptChat, text: string): Promise<Done> {
  const done = new Promise<Done>((r) => el.addEventListener('gpt-chat-message', (e) => r(e.detail), { once: true }));
  expect(el.send(text)).to.equal(true);
  return done;
}

/** The stats of the worker at `url` once the warm-up is done: idle, with something cached. */
const settled = async (url: string) => (await idleWorkerStats(url, (s) => s.kvPosition > 0))!;

describe('<gpt-chat> warm-prompt', () => {
  it('after ready, the first send prefills only its new turn and replies as without the warm-up', async function () {
    this.timeout(120_000);
    const warm = await chat({ model: MODEL, 'system-prompt': SYSTEM });
    const cold = await chat({ model: MODEL, 'system-prompt': SYSTEM, ...COLD });
    await until('both ready', () => warm.status === ChatStatus.ready && cold.status === ChatStatus.ready);
    const warmed = await settled(WORKER);
    const coldStats = (await workerStats()).find((s) => s.url.endsWith('?cold'));
    expect(coldStats?.kvPosition, 'no warm-up with warm-prompt="off"').to.equal(0);

    const question = 'What is the capital of France?';
    const [a, b] = [await send(warm, question), await send(cold, question)];
    expect(b.cachedPromptTokens).to.equal(0);
    expect(a.promptTokens).to.equal(b.promptTokens);
    // everything the warm-up cached was used, and it was all but the new turn: the user text
    // (8 tokens here) with its opening and the assistant's, a dozen tokens or so
    expect(a.cachedPromptTokens).to.equal(warmed.kvPosition);
    expect(a.promptTokens - a.cachedPromptTokens!).to.be.within(1, 20);
    expect(a.cachedPromptTokens).to.be.greaterThan(a.promptTokens / 2);
    expect(a.content).to.equal(b.content);
    expect(a.content.length).to.be.greaterThan(0);

    // after the reply, the warm-up reads the reply's end and the next turn's opening
    const warmed2 = await settled(WORKER);
    expect(warmed2.kvPosition).to.be.greaterThan(a.promptTokens);
    const [c, d] = [await send(warm, 'And of Italy?'), await send(cold, 'And of Italy?')];
    expect(c.cachedPromptTokens).to.equal(warmed2.kvPosition);
    expect(c.promptTokens - c.cachedPromptTokens!).to.be.within(1, 20);
    expect(c.content).to.equal(d.content);
  });

  it('a send during the warm-up waits for it and gets the same reply', async function () {
    this.timeout(120_000);
    const cold = await chat({ model: MODEL, 'system-prompt': SYSTEM, ...COLD });
    await until('cold ready', () => cold.status === ChatStatus.ready);
    const expected = await send(cold, 'Hello there!');

    const warm = await chat({ model: MODEL, 'system-prompt': SYSTEM });
    // sent in the task after ready: the warm-up request has just gone to the worker
    const sent = new Promise<Done>((r) => warm.addEventListener('gpt-chat-ready', () => setTimeout(() => void send(warm, 'Hello there!').then(r)), { once: true }));
    const got = await sent;
    expect(got.finishReason).to.equal(expected.finishReason);
    expect(got.content).to.equal(expected.content);
    expect(got.promptTokens).to.equal(expected.promptTokens);
  });

  it('a system prompt changed after ready is read ahead again, and the send prefills only its new turn', async function () {
    this.timeout(120_000);
    const warm = await chat({ model: MODEL, 'system-prompt': SYSTEM });
    const cold = await chat({ model: MODEL, 'system-prompt': SYSTEM, ...COLD });
    await until('both ready', () => warm.status === ChatStatus.ready && cold.status === ChatStatus.ready);
    const first = await settled(WORKER);
    const longer = `${SYSTEM} Mention the weather whenever you can, and sign each answer with a smile.`;
    for (const el of [warm, cold]) el.systemPrompt = longer;
    // the old system prompt's tokens are kept, the new ones read after them
    const again = (await idleWorkerStats(WORKER, (s) => s.kvPosition > first.kvPosition))!;
    const [a, b] = [await send(warm, 'What is the capital of France?'), await send(cold, 'What is the capital of France?')];
    expect(a.cachedPromptTokens).to.equal(again.kvPosition);
    expect(a.promptTokens - a.cachedPromptTokens!).to.be.within(1, 20);
    expect(a.content).to.equal(b.content);
  });

  it('a chat longer than the context: older turns are left out in steps, and every send still reads only its new turn', async function () {
    this.timeout(180_000);
    const el = await chat({ model: MODEL, 'system-prompt': SYSTEM, 'max-tokens': '6' });
    await until('ready', () => el.status === ChatStatus.ready);
    expect(el.contextLength).to.equal(256); // the fixture's context: a dozen turns fill it
    const sends: Done[] = [];
    let leftOut = 0;
    for (let i = 0; i < 16; i++) {
      await settled(WORKER); // the visitor typed long enough for the read-ahead to end
      const done = await send(el, `Question number ${i}: what comes next in this story?`);
      sends.push(done);
      const notice = /(\d+) older messages? (?:was|were) left out/.exec(el.shadowRoot!.querySelector('.notice')?.textContent ?? '');
      leftOut = Math.max(leftOut, Number(notice?.[1] ?? 0));
    }
    expect(leftOut, 'the conversation outgrew the context').to.be.greaterThan(0);
    // each prompt's new part is its own turn (the question, 25-40 tokens in this fixture's vocabulary,
    // and the previous reply's end), before and after turns were left out: never the whole prompt
    const read = sends.slice(1).map((d) => d.promptTokens - d.cachedPromptTokens!);
    const prompts = sends.map((d) => d.promptTokens);
    expect(Math.max(...prompts), `prompt tokens: ${prompts}`).to.be.greaterThan(150);
    expect(Math.max(...read), `tokens read per send: ${read}`).to.be.at.most(45);
  });

  it('after a clear, the next reply is the one a fresh chat gives', async function () {
    this.timeout(120_000);
    const warm = await chat({ model: MODEL, 'system-prompt': SYSTEM });
    const cold = await chat({ model: MODEL, 'system-prompt': SYSTEM, ...COLD });
    await until('both ready', () => warm.status === ChatStatus.ready && cold.status === ChatStatus.ready);
    const first = await settled(WORKER);
    for (const el of [warm, cold]) {
      await send(el, 'A question that fills the cache with something else.');
      el.clear();
    }
    await settled(WORKER);
    const [a, b] = [await send(warm, 'What is the capital of France?'), await send(cold, 'What is the capital of France?')];
    // the system prompt's part of the cache is kept (it is what the warm-up wants) and used
    expect(a.cachedPromptTokens).to.be.at.least(first.kvPosition);
    expect(a.content).to.equal(b.content);
  });
});
