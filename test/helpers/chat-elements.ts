// <gpt-chat> elements on the real engine worker for browser tests: made with the test's defaults
// (CPU engine, greedy, short replies, an in-memory conversation store) and removed after each test.
import { memoryConversationStore } from '../../src/element/conversation-store.ts';
import { GptChat } from '../../src/gpt-chat.ts';
import { sleep } from './waits.ts';

/** The built worker bundle (`npm run build` first). */
export const WORKER = '/dist/gpt-chat-worker.js';
/** A generated fixture model in the Hugging Face layout. */
export const MODEL = '/test/fixtures/generated/smollm2-135m/';

const elements: GptChat[] = [];

/** A <gpt-chat> in the page with `attrs` over the defaults, once it has rendered. */
export async function chat(attrs: Record<string, string>): Promise<GptChat> {
  GptChat.deps = { store: memoryConversationStore() };
  const el = document.createElement('gpt-chat');
  for (const [k, v] of Object.entries({ 'worker-url': WORKER, engine: 'cpu', temperature: '0', 'max-tokens': '12', ...attrs })) el.setAttribute(k, v);
  el.style.height = '300px';
  document.body.append(el);
  elements.push(el);
  await el.updateComplete;
  return el;
}

/** Removes the elements {@link chat} made; call from afterEach. */
export async function removeChats(): Promise<void> {
  for (const el of elements.splice(0)) el.remove();
  GptChat.deps = {};
  await sleep(1100); // elements let go of their engine a second after leaving the page
}
