/**
 * The tag names of the elements, for `document.querySelector('gpt-chat')` and
 * `document.createElement('gpt-chat')` typed as the element. Declared here rather than beside
 * `customElements.define` so that bundler users who import the classes from the package root (and
 * register them themselves) get the same typing as those who import gpt-chat.js.
 */
import type { GptChat } from './gpt-chat.ts';
import type { GptTemplateEditor } from './template-editor.ts';

/** Tag name -> element class, merged into the DOM's `HTMLElementTagNameMap`. */
export interface GptChatTagNameMap {
  'gpt-chat': GptChat;
  'gpt-template-editor': GptTemplateEditor;
}

declare global {
  interface HTMLElementTagNameMap extends GptChatTagNameMap {}
}
