import type { ChatMessage } from './chat-template.ts';

/**
 * Two user messages that differ from their first character: where their prompts' token ids part
 * is where the next user message's text begins, whatever the template does around it.
 */
const PROBES = ['Hello.', 'Why?'] as const;

/**
 * The token ids every prompt of `messages` plus one more user message begins with, whatever that
 * message says: the chat template's rendering up to where the new text would start, less its
 * last token (a BPE merge may join it to the text). Found by encoding the conversation with two
 * different probe messages and keeping their common prefix, so a template that puts the system
 * prompt after the user's message, or repeats it there, yields the shorter prefix it must.
 * Prefilled while the visitor types (InPageEngine.warm), it leaves a send only its new turn.
 */
export function knownPromptPrefix(encode: (messages: readonly ChatMessage[]) => number[], messages: readonly ChatMessage[]): number[] {
  const [a, b] = PROBES.map((content) => encode([...messages, { role: 'user', content }]));
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return a.slice(0, Math.max(0, common - 1));
}
