/**
 * Where web-llm itself comes from. In the source tree it is the npm package. In dist/,
 * gpt-chat-webllm.js holds only our adapter (a few kB) and web-llm's own single-file build
 * (@mlc-ai/web-llm/lib/index.js, 6.8 MB, 2.2 MB gzip) is imported at run time: first as web-llm.js
 * beside gpt-chat-webllm.js (rollup.config.mjs maps the package there, and `npm run build` copies
 * it there), else from jsDelivr at the version the adapter was built and tested against. So the
 * npm package does not carry 6.8 MB that most pages never load, a self-hosted page can serve
 * web-llm itself, and a page that loads gpt-chat from a CDN still gets web-llm with no step.
 * web-llm fetches its compiled model libraries from GitHub and its weights from Hugging Face
 * anyway, so engine="webllm" is never an offline-only engine.
 */
import { GptError } from '../errors.ts';
import type { WebLlmModule } from './webllm-api.ts';

/** The @mlc-ai/web-llm version gpt-chat-webllm.js was built against (package.json pins it). */
export const WEBLLM_VERSION = '0.2.86';

/** web-llm on jsDelivr, pinned: the fallback when web-llm.js is not served beside the adapter. */
export const WEBLLM_CDN_URL = `https://cdn.jsdelivr.net/npm/@mlc-ai/web-llm@${WEBLLM_VERSION}/lib/index.js`;

/** Imports web-llm: beside the adapter (in dist/; the package in the source tree), else `fallbackUrl`. */
export async function importWebLlmLibrary(
  fallbackUrl: string = WEBLLM_CDN_URL,
  importBeside: () => Promise<WebLlmModule> = () => import('@mlc-ai/web-llm'),
  importUrl: (url: string) => Promise<WebLlmModule> = (url) => import(/* @vite-ignore */ url),
): Promise<WebLlmModule> {
  let besideError: unknown;
  try {
    return await importBeside();
  } catch (e) {
    besideError = e;
  }
  try {
    return await importUrl(fallbackUrl);
  } catch (e) {
    const why = (x: unknown) => (x instanceof Error ? x.message : String(x));
    throw new GptError(
      'network',
      `Could not load web-llm for engine="webllm": not beside gpt-chat-webllm.js as web-llm.js (${why(besideError)}), nor from ${fallbackUrl} (${why(e)}). ` +
        `HINT: npm i @mlc-ai/web-llm@${WEBLLM_VERSION} and serve node_modules/@mlc-ai/web-llm/lib/index.js as web-llm.js beside gpt-chat-webllm.js, or use engine="auto".`,
    );
  }
}
