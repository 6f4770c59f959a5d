/**
 * Registers `<gpt-chat>` and `<gpt-template-editor>`: the one module with side effects. `<script type="module"
 * src=".../gpt-chat.js">` is all a page needs. Registering twice (two copies of the script) is a
 * no-op rather than the DOMException customElements.define would throw.
 */
import { GptChat } from './element/gpt-chat.ts';
import { GptTemplateEditor } from './element/template-editor.ts';

if (!customElements.get('gpt-chat')) customElements.define('gpt-chat', GptChat);
if (!customElements.get('gpt-template-editor')) customElements.define('gpt-template-editor', GptTemplateEditor);

export { GptChat, GptTemplateEditor };
export type { GptChatTagNameMap } from './element/tag-names.ts';
