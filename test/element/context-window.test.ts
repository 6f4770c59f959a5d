// What of a conversation goes to the model (element/context-window.ts). The token counter is a
// stand-in for the engine's tokenizer (one token a word, four a message for its template): the
// behaviour under test is which turns are kept, not how text becomes tokens.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/engine/engine.ts';
import { fitToContext, warmPrompt } from '../../src/element/context-window.ts';
import type { ChatTurn } from '../../src/element/events.ts';

const count = async (messages: readonly ChatMessage[]) => messages.reduce((n, m) => n + 4 + m.content.split(' ').length, 0);
const engine = { countChatTokens: count };
const words = (n: number, w = 'word') => Array.from({ length: n }, () => w).join(' ');
const S = { systemPrompt: words(20, 'sys'), maxTokens: 100 };
const CONTEXT = 1000;

/** A user and an assistant turn of `n` words each, numbered so prompts can be compared. */
const pair = (i: number, n = 40): ChatTurn[] => [
  { role: 'user', content: `u${i} ${words(n - 1)}` },
  { role: 'assistant', content: `a${i} ${words(n - 1)}` },
];

describe('fitToContext', () => {
  it('sends everything that fits, and keeps the start it was given while the conversation fits from there', async () => {
    const turns = [...pair(0), ...pair(1), { role: 'user', content: 'hello' } as ChatTurn];
    const all = await fitToContext(engine, turns, CONTEXT, S);
    expect(all.dropped).to.equal(0);
    expect(all.messages.map((m) => m.role)).to.deep.equal(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(all.promptTokens).to.equal(await count(all.messages));
    // a start from an earlier overflow stays, though everything would fit again
    const kept = await fitToContext(engine, turns, CONTEXT, S, 2);
    expect(kept.dropped).to.equal(2);
    expect(kept.messages[1]!.content).to.match(/^u1 /);
  });

  it('on overflow leaves out older pairs until prompt and reply fill half the context, no more', async () => {
    const turns = [...Array.from({ length: 10 }, (_, i) => pair(i)).flat(), { role: 'user', content: 'hello' } as ChatTurn];
    expect((await count([{ role: 'system', content: S.systemPrompt }, ...turns])) + S.maxTokens).to.be.greaterThan(CONTEXT);
    const fit = await fitToContext(engine, turns, CONTEXT, S);
    expect(fit.promptTokens + S.maxTokens).to.be.at.most(CONTEXT / 2);
    expect(fit.dropped % 2).to.equal(0); // whole pairs
    // one pair fewer left out would not have been under the mark
    const oneMore = [{ role: 'system', content: S.systemPrompt }, ...turns.slice(fit.dropped - 2)] as ChatMessage[];
    expect((await count(oneMore)) + S.maxTokens).to.be.greaterThan(CONTEXT / 2);
  });

  it('over a long chat the prompt keeps its beginning for several sends after each overflow', async () => {
    let turns: ChatTurn[] = [];
    let from = 0;
    let previous: ChatMessage[] = [];
    let restarts = 0;
    let sends = 0;
    for (let i = 0; i < 40; i++) {
      turns = [...turns, { role: 'user', content: `u${i} ${words(30)}` }];
      const fit = await fitToContext(engine, turns, CONTEXT, S, from);
      expect(fit.promptTokens + fit.maxTokens).to.be.at.most(CONTEXT);
      // the model's KV cache holds the previous prompt: does this one begin with it?
      const reuses = previous.every((m, j) => fit.messages[j]?.content === m.content);
      if (sends > 0 && !reuses) restarts++;
      sends++;
      from = fit.dropped;
      turns = [...turns, { role: 'assistant', content: `a${i} ${words(30)}` }];
      previous = [...fit.messages, turns.at(-1)!];
    }
    // ~70 tokens a pair: the 1000-token context overflows after ~12 sends, then every ~6 (not every send)
    expect(from).to.be.greaterThan(0);
    expect(restarts).to.be.within(3, 8);
  });

  it('a new message too long to get under the mark keeps as many older turns as fit the context', async () => {
    const turns = [...Array.from({ length: 4 }, (_, i) => pair(i)).flat(), { role: 'user', content: words(600) } as ChatTurn];
    const fit = await fitToContext(engine, turns, CONTEXT, S);
    expect(fit.promptTokens + S.maxTokens).to.be.within(CONTEXT / 2 + 1, CONTEXT);
    const oneMore = [{ role: 'system', content: S.systemPrompt }, ...turns.slice(fit.dropped - 2)] as ChatMessage[];
    expect((await count(oneMore)) + S.maxTokens).to.be.greaterThan(CONTEXT);
    expect(fit.dropped).to.be.lessThan(turns.length - 1); // not the message alone
  });

  it('a single message too long for any reply is context-overflow; one that fits with less room gets a smaller budget', async () => {
    await expect(fitToContext(engine, [{ role: 'user', content: words(980) }], CONTEXT, S)).rejects.toMatchObject({ code: 'context-overflow' });
    const fit = await fitToContext(engine, [...pair(0), { role: 'user', content: words(900) }], CONTEXT, S);
    expect(fit.dropped).to.equal(2);
    expect(fit.maxTokens).to.equal(CONTEXT - fit.promptTokens - 1);
  });
});

describe('warmPrompt', () => {
  it('plans the start the next send takes for a short message, and prefills that prompt', async () => {
    const history = Array.from({ length: 11 }, (_, i) => pair(i)).flat();
    const warmed: ChatMessage[][] = [];
    let planned = -1;
    const warming = { countChatTokens: count, warm: async (m: readonly ChatMessage[]) => (warmed.push([...m]), 0) } as never;
    warmPrompt(warming, history, CONTEXT, S, 0, new AbortController().signal, (start) => (planned = start));
    await new Promise((r) => setTimeout(r, 10));
    expect(planned).to.be.greaterThan(0); // the history alone already leaves too little room for a message
    expect(warmed).to.have.length(1);
    const send = await fitToContext(engine, [...history, { role: 'user', content: words(50) }], CONTEXT, S, planned);
    expect(send.dropped).to.equal(planned);
    expect(send.messages.slice(0, -1)).to.deep.equal(warmed[0]);
  });
});
