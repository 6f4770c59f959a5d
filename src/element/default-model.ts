/**
 * The model <gpt-chat> uses when it has no `model` attribute: the bundled demo model, resolved
 * against the URL of the script itself so it works wherever the package is served. In the served
 * layout (dist/gpt-chat.js beside models/) that is `../models/gpt-chat-demo/`; in the source tree
 * (src/element/) it is `../../models/gpt-chat-demo/`; rollup.config.mjs rewrites the path for dist/.
 *
 * Pages override it for every element with `GptChat.defaultModel = 'https://.../'` before the
 * elements connect, or per element with the `model` attribute.
 */
export function bundledModelUrl(): string {
  return new URL('../../models/gpt-chat-demo/', import.meta.url).href;
}
