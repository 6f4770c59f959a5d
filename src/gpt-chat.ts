/**
 * Registers `<gpt-chat>`: the one module with side effects. `<script type="module"
 * src=".../gpt-chat.js">` is all a page needs. Registering twice (two copies of the script) is a
 * no-op rather than the DOMException customElements.define would throw.
 */
import { GptChat } from './element/gpt-chat.ts';

if (!customElements.get('gpt-chat')) customElements.define('gpt-chat', GptChat);

export { GptChat };

declare global {
  interface HTMLElementTagNameMap {
    'gpt-chat': GptChat;
  }
}
