/**
 * Reading a model file over HTTP, the same way wherever it happens (the runtime reading a folder
 * straight from a URL, the cache downloading it): the file's size from the headers, and the body's
 * chunks with a dropped connection told apart from an abort.
 */
import { GptError } from '../errors.ts';

/**
 * The file's size from `Content-Length`, or null when there is none or it does not count the
 * file's bytes: with a Content-Encoding (gzip, br) it counts the compressed body.
 */
export function contentLength(headers: Headers): number | null {
  const length = headers.get('content-length');
  const encoded = (headers.get('content-encoding') ?? 'identity') !== 'identity';
  return length !== null && !encoded && /^\d+$/.test(length) ? Number(length) : null;
}

/**
 * The chunks of `body` as they arrive. A read that fails is GptError 'aborted' (`aborted` says
 * what) when `signal` fired, else what `dropped` makes of the error (each caller says where the
 * connection dropped). The reader is cancelled when the consumer stops early, which stops the
 * download.
 */
export async function* bodyChunks(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  aborted: string,
  dropped: (e: unknown) => GptError,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw new GptError('aborted', aborted);
        throw dropped(e);
      }
      if (read.done) return;
      yield read.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
