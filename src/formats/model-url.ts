/**
 * The one spelling of a model folder URL: absolute, with a trailing slash on its path. The cache
 * keys models by it, the runtime and the cache resolve file names against it, and the engine
 * client sends it to the worker (whose own base URL is a blob: or the worker script, not the page).
 */
import { GptError } from '../errors.ts';
import { ggufFileName } from './model-location.ts';

/**
 * `url` made absolute (against `base`, default the page's base URL; none in Node) with a trailing
 * slash on its path, so `folder + 'config.json'` is the file. Throws GptError 'bad-argument' for a
 * string that is no URL.
 */
export function modelFolderUrl(url: string, base: string | undefined = globalThis.document?.baseURI ?? globalThis.location?.href): string {
  let u: URL;
  try {
    u = new URL(url, base);
  } catch {
    throw new GptError('bad-argument', `Model URL ${JSON.stringify(url)} is not a URL. HINT: give the folder, e.g. https://huggingface.co/<org>/<model>/resolve/main/`);
  }
  if (!u.pathname.endsWith('/') && ggufFileName(u.href) === null) u.pathname += '/';
  return u.href;
}
