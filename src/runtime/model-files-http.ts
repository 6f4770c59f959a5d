import type { FileStream, ModelFiles } from '../formats/model-files.ts';
import { GptError } from '../errors.ts';
import { bodyChunks, contentLength } from '../formats/http-body.ts';
import { canonicalModelUrl, ggufFileName } from '../formats/model-location.ts';

/**
 * {@link ModelFiles} over a base URL (a Hugging Face `resolve/main/` URL or any static server), or
 * over the URL of one `.gguf` file, with fetch: works in browsers, workers and Node. `fetchFn` is a
 * parameter so tests pass their own.
 * A 404 (or any non-2xx) is GptError 'file-missing' naming the URL and status; a failed request is
 * 'network'.
 */
export function httpModelFiles(baseUrl: string, fetchFn: typeof fetch = globalThis.fetch.bind(globalThis)): ModelFiles {
  const base = canonicalModelUrl(baseUrl);
  const gguf = ggufFileName(base);
  const url = (name: string) => (name === gguf ? base : new URL(name, base).href);

  async function get(name: string, init: RequestInit): Promise<Response> {
    const u = url(name);
    let res: Response;
    try {
      res = await fetchFn(u, init);
    } catch (err) {
      if (init.signal?.aborted) throw new GptError('aborted', `Fetching ${u} was aborted.`);
      const why = err instanceof Error ? err.message : String(err);
      throw new GptError('network', `Fetching ${u} failed: ${why}. Hint: check the connection and that the server allows this origin (CORS).`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new GptError(
        'file-missing',
        `${u} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Hint: check the model URL; gated models need a token and cannot be fetched anonymously.`,
      );
    }
    return res;
  }

  return {
    location: base,
    ...(gguf ? { ggufFile: gguf } : {}),
    async has(name) {
      let res: Response;
      try {
        res = await fetchFn(url(name), { method: 'HEAD' });
      } catch {
        return false;
      }
      return res.ok;
    },
    async text(name) {
      const res = await get(name, {});
      return res.text();
    },
    async open(name, signal): Promise<FileStream> {
      const res = await get(name, { signal });
      const u = url(name);
      const size = contentLength(res.headers);
      if (size === null || !res.body) {
        await res.body?.cancel().catch(() => {});
        const encoding = res.headers.get('content-encoding');
        throw new GptError(
          'network',
          `${u} did not give a usable Content-Length (got ${res.headers.get('content-length') ?? 'none'}${encoding ? `, Content-Encoding ${encoding}` : ''}). ` +
            `Hint: serve weight files uncompressed with a Content-Length header.`,
        );
      }
      const dropped = (err: unknown) => new GptError('network', `Downloading ${u} failed midway: ${err instanceof Error ? err.message : String(err)}. Hint: try again.`);
      return { size, chunks: bodyChunks(res.body, signal, `Fetching ${u} was aborted.`, dropped) };
    },
  };
}
