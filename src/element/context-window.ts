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

/**
 * Once the conversation outgrows the context, older turns are left out until the prompt and the
 * reply's budget fill at most this share of it, not just until they fit: the turns kept then stay
 * the beginning of the next several prompts, which the model still holds in its KV cache, instead
 * of every send after the first overflow leaving out one more turn and so reading the whole
 * conversation again (seconds a send on the CPU for a 2048-token context).
 */
const REFILL = 0.5;

/**
 * Tokens kept free for the message the visitor is typing when the warm-up plans where the next
 * prompt starts ({@link warmPrompt}): a longer message makes the send leave out more (and read
 * its prompt again), a shorter one finds the planned start.
 */
const NEXT_MESSAGE_TOKENS = 64;

/**
 * Fits `turns` after `s.systemPrompt` into `contextLength` tokens, counted by the engine, with
 * `s.maxTokens` (and `reserve` more) left for what comes after. `from` is where the last fitted
 * prompt started (the turns left out before): a conversation that fits from there keeps that
 * start, one that overflows leaves out older turns down to {@link REFILL} of the context.
 */
export async function fitToContext(
  engine: Pick<Engine, 'countChatTokens'>,
  allTurns: readonly ChatTurn[],
  contextLength: number,
  s: { readonly systemPrompt: string; readonly maxTokens: number },
  from = 0,
  reserve = 0,
): Promise<FittedContext> {
  const system = systemMessages(s);
  const budget = s.maxTokens + reserve;
  let dropped = Math.max(0, Math.min(from, allTurns.length - 1));
  let turns = allTurns.slice(dropped);
  let target = contextLength;
  let fits: FittedContext | undefined; // the most turns that fit the context, should none get under the refill mark
  for (;;) {
    const messages = [...system, ...turns];
    // An old message too long to count (context-overflow before tokenizing) is dropped like any other.
    const n = await engine.countChatTokens(messages).catch((e: unknown) => {
      if (turns.length > 1 && GptError.from(e).code === 'context-overflow') return Infinity;
      throw e;
    });
    const fit = { messages, maxTokens: s.maxTokens, dropped, promptTokens: n };
    if (n + budget <= target) return fit;
    if (n + budget <= contextLength) fits ??= fit;
    if (turns.length > 1) {
      const cut = turns[1]?.role === 'assistant' ? 2 : 1;
      turns = turns.slice(cut);
      dropped += cut;
      target = Math.min(target, Math.floor(contextLength * REFILL));
      continue;
    }
    // One message alone (a long one): as many turns as fit, or a smaller reply budget if a useful reply still fits.
    if (fits) return fits;
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
 * `s.systemPrompt`, as {@link fitToContext} will send them with a short message more (Engine.warm).
 * `plan` gets the turns that prompt leaves out (the next send's `from`) before the prefill starts.
 * Idle work: a failure only goes to console.debug, and the send aborts it.
 */
export function warmPrompt(
  engine: Engine,
  turns: readonly ChatTurn[],
  contextLength: number,
  s: { readonly systemPrompt: string; readonly maxTokens: number },
  from: number,
  signal: AbortSignal,
  plan: (dropped: number) => void,
): void {
  const warm = async () => {
    if (!engine.warm) return;
    const { messages, dropped } = turns.length
      ? await fitToContext(engine, turns, contextLength, s, from, NEXT_MESSAGE_TOKENS)
      : { messages: systemMessages(s), dropped: 0 };
    signal.throwIfAborted();
    plan(dropped);
    await engine.warm(messages, signal);
  };
  warm().catch((e: unknown) => console.debug('gpt-chat: prompt warm-up skipped:', e));
}
