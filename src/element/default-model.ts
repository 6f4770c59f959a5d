import { GptError } from '../errors.ts';

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
  return new URL(/* @vite-ignore */ '../../models/gpt-chat-demo/', import.meta.url).href;
}

/**
 * The error to show when the bundled demo model failed to load from `url` because it is not there.
 * The usual cause is an app whose bundler took gpt-chat.js but not models/ (Vite copies the worker
 * it finds through `new URL(..., import.meta.url)`, never a folder); its dev server then answers
 * config.json with index.html and a static server with 404, which would otherwise read as a server
 * fault. Other errors (offline, a corrupt cache) pass through unchanged.
 */
export function explainBundledModelError(error: GptError, url: string): GptError {
  // response-check.ts and model-files-http.ts report a missing file as 'file-missing' and an HTML
  // page in its place as 'network' with that wording; both mean "nothing is served at this path".
  const notThere = error.code === 'file-missing' || (error.code === 'network' && /HTML|not a model file/.test(error.message));
  if (!notThere) return error;
  const what = `<gpt-chat> has no model attribute, so it loads the bundled demo model from ${url}, and it is not there (${url}config.json is missing, or the server answered with a web page).`;
  // Vite's dev server pre-bundles dependencies into node_modules/.vite/deps/, away from the package's
  // models/ folder (the worker it finds; a folder it cannot).
  const hint = url.includes('/node_modules/.vite/')
    ? `HINT: Vite's dev server pre-bundled gpt-chat away from its files: add optimizeDeps: { exclude: ['gpt-chat'] } to vite.config.js, or set the model attribute (or GptChat.defaultModel) to the URL of a model folder.`
    : `HINT: serve the folder node_modules/gpt-chat/models/gpt-chat-demo/ at that URL (with Vite: copy it to public/models/gpt-chat-demo/), or set the model attribute (or GptChat.defaultModel) to the URL of a model folder.`;
  return new GptError('file-missing', `${what} ${hint}`);
}
