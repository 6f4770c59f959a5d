/**
 * Telling "the server does not let this page read it" from "the server cannot be reached". A
 * fetch refused by CORS fails exactly like a dropped connection (a TypeError, by design of the
 * Fetch standard), so on a failure to another origin we ask again with `mode: 'no-cors'`: an opaque
 * answer means the server is up and it is its CORS headers that are missing.
 */
import { GptError } from '../errors.ts';

/** The fix a self-hosted model folder needs, named in every CORS error (README: "Host your own model"). */
export const CORS_HINT =
  'HINT: the server must send Access-Control-Allow-Origin (e.g. *) and, for resuming downloads, Access-Control-Expose-Headers: Content-Length, Content-Range, ETag (see "Host your own model" in the gpt-chat README).';

/**
 * A GptError('cors') when `url` is on another origin than `pageOrigin` and answers a no-cors
 * request (so it is up, and refused this page); undefined when it is unreachable too.
 */
export async function corsRefusal(
  fetchFn: typeof fetch,
  url: string,
  signal?: AbortSignal,
  pageOrigin: string | undefined = globalThis.location?.origin,
): Promise<GptError | undefined> {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return undefined;
  }
  if (!pageOrigin || pageOrigin === 'null' || origin === pageOrigin) return undefined;
  try {
    await fetchFn(url, { method: 'HEAD', mode: 'no-cors', signal });
  } catch {
    return undefined; // unreachable for everyone: a network problem, not CORS
  }
  return new GptError('cors', `The server at ${origin} does not allow this page (${pageOrigin}) to read ${url}. ${CORS_HINT}`);
}

/**
 * A GptError('cors') for a 206 whose Content-Range this page may not read (cross-origin, not in
 * Access-Control-Expose-Headers): resuming cannot check which bytes came back.
 */
export function hiddenContentRange(res: Response, url: string): GptError | undefined {
  if (res.type !== 'cors' || res.headers.get('content-range') !== null) return undefined;
  return new GptError('cors', `${url}: the server answered a Range request but does not let this page read its Content-Range header, so a download cannot resume. ${CORS_HINT}`);
}
