/**
 * What of a conversation is sent to the model: the system prompt and as many of the latest turns
 * as fit the context window with room for the reply. Older turns go first, in user/assistant
 * pairs; a single message too long for any useful reply is an error that says so.
 */
import type { ChatMessage, Engine } from '../engine/engine.ts';
import { GptError } from '../errors.ts';
import type { ChatTurn } from './events.ts';

/** The messages to send, the reply's token budget, how many turns were left out, the prompt's tokens. */
export interface FittedContext {
  readonly messages: ChatMessage[];
  readonly maxTokens: number;
  readonly dropped: number;
  readonly promptTokens: number;
}

/** The system message a conversation is sent after: none for an empty system prompt. */
function systemMessages(s: { readonly systemPrompt: string }): ChatMessage[] {
  return s.systemPrompt ? [{ role: 'system', content: s.systemPrompt }] : [];
}

/** Fits `turns` after `s.systemPrompt` into `contextLength` tokens, counted by the engine. */
export async function fitToContext(
  engine: Pick<Engine, 'countChatTokens'>,
  allTurns: readonly ChatTurn[],
  contextLength: number,
  s: { readonly systemPrompt: string; readonly maxTokens: number },
): Promise<FittedContext> {
  const system = systemMessages(s);
  let turns = allTurns.slice();
  let dropped = 0;
  for (;;) {
    const messages = [...system, ...turns];
    // An old message too long to count (context-overflow before tokenizing) is dropped like any other.
    const n = await engine.countChatTokens(messages).catch((e: unknown) => {
      if (turns.length > 1 && GptError.from(e).code === 'context-overflow') return Infinity;
      throw e;
    });
    if (n + s.maxTokens <= contextLength) return { messages, maxTokens: s.maxTokens, dropped, promptTokens: n };
    if (turns.length > 1) {
      const cut = turns[1]?.role === 'assistant' ? 2 : 1;
      turns = turns.slice(cut);
      dropped += cut;
      continue;
    }
    // One message alone: shrink the reply budget if a useful reply still fits.
    const room = contextLength - n - 1;
    if (room >= 16) return { messages, maxTokens: room, dropped, promptTokens: n };
    throw new GptError(
      'context-overflow',
      `Your message is ${n} tokens but this model's context window holds ${contextLength} with room for a reply. HINT: shorten the message${s.systemPrompt ? ' or the system prompt' : ''}.`,
    );
  }
}

/**
 * Prefills, while the visitor types, the prompt the next send will begin with: `turns` after
 * `s.systemPrompt`, as {@link fitToContext} sends them (Engine.warm). Idle work: a failure only
 * goes to console.debug, and the send aborts it.
 */
export function warmPrompt(engine: Engine, turns: readonly ChatTurn[], s: { readonly systemPrompt: string }, signal: AbortSignal): void {
  engine.warm?.([...systemMessages(s), ...turns], signal).catch((e: unknown) => console.debug('gpt-chat: prompt warm-up skipped:', e));
}
