import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ggufFileName } from '../formats/model-location.ts';
import type { FileStream, ModelFiles } from '../formats/model-files.ts';
import { GptError } from '../errors.ts';

/** 4 MiB reads: few enough syscalls for a 1 GB checkpoint, small next to one tensor. */
const CHUNK_BYTES = 4 << 20;

/**
 * {@link ModelFiles} over a local directory, or over one `.gguf` file (Node only). Files stream with
 * fs.createReadStream; a missing file is GptError 'file-missing' naming its path.
 */
export function nodeModelFiles(dir: string): ModelFiles {
  const gguf = ggufFileName(dir);
  const root = gguf ? dirname(resolve(dir)) : resolve(dir);
  const path = (name: string) => join(root, name);
  return {
    location: resolve(dir),
    ...(gguf ? { ggufFile: gguf } : {}),
    async has(name) {
      try {
        return (await stat(path(name))).isFile();
      } catch {
        return false;
      }
    },
    async text(name) {
      try {
        return await readFile(path(name), 'utf8');
      } catch (err) {
        throw missing(path(name), err);
      }
    },
    async open(name, signal): Promise<FileStream> {
      const p = path(name);
      let size: number;
      try {
        const st = await stat(p);
        if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
        size = st.size;
      } catch (err) {
        throw missing(p, err);
      }
      return { size, chunks: chunksOf(p, signal) };
    },
  };
}

async function* chunksOf(p: string, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(p, { highWaterMark: CHUNK_BYTES, signal });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      // A plain Uint8Array view: callers must not depend on Buffer's extra methods.
      yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
  } catch (err) {
    if (signal?.aborted) throw new GptError('aborted', `Reading ${p} was aborted.`);
    throw missing(p, err);
  } finally {
    stream.destroy();
  }
}

function missing(p: string, err: unknown): GptError {
  const code = (err as { code?: string } | null)?.code;
  const why = code === 'ENOENT' ? 'it does not exist' : err instanceof Error ? err.message : String(err);
  return new GptError('file-missing', `Cannot read ${p}: ${why}. Hint: check the model folder path and that the download finished.`);
}
