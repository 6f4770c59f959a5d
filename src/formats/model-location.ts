import { GptError } from '../errors.ts';

/**
 * A model is named by a folder (Hugging Face layout: config.json, model.safetensors, ...) or by one
 * GGUF file. These decide which, from the URL or path alone, in one place for the runtime, the
 * cache and the engine.
 */

const SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/**
 * The file name when `location` (a URL or a path) names a GGUF file, else null. A query or hash
 * after the name is allowed. Throws GptError 'unsupported-model' for one part of a sharded GGUF
 * (`name-00001-of-00003.gguf`), which cannot be loaded alone.
 */
export function ggufFileName(location: string): string | null {
  let path = location;
  try {
    path = decodeURIComponent(new URL(location).pathname);
  } catch {
    // not an absolute URL: a path, or a URL relative to the page
    path = location.replace(/[?#].*$/, '');
  }
  const name = path.split(/[\\/]/).pop() ?? '';
  if (!/\.gguf$/i.test(name)) return null;
  const shard = SHARD.exec(name);
  if (shard) {
    throw new GptError(
      'unsupported-model',
      `${name} is part ${Number(shard[1])} of a GGUF split into ${Number(shard[2])} files; sharded GGUF is not supported. ` +
        `Hint: merge the parts into one file with llama.cpp's \`llama-gguf-split --merge\`, or pick a single-file quantization.`,
    );
  }
  return name;
}

/**
 * The one spelling of a model URL: absolute (against `base`, default the page's base URL; none in
 * Node), a folder with a trailing slash on its path, a GGUF file as it is. The cache keys models by
 * it, the runtime and the cache resolve file names against it, and the engine client sends it to
 * the worker (whose own base URL is a blob: or the worker script, not the page). Throws GptError
 * 'bad-argument' for a string that is no URL, 'unsupported-model' for one part of a split GGUF.
 */
export function canonicalModelUrl(url: string, base: string | undefined = globalThis.document?.baseURI ?? globalThis.location?.href): string {
  let u: URL;
  try {
    u = new URL(url, base);
  } catch {
    throw new GptError('bad-argument', `Model URL ${JSON.stringify(url)} is not a URL. HINT: give the folder, e.g. https://huggingface.co/<org>/<model>/resolve/main/`);
  }
  // local: ids have an opaque path, which the pathname setter leaves alone.
  if (u.protocol === LOCAL_SCHEME) return u.href.endsWith('/') || ggufFileName(u.href) !== null ? u.href : `${u.href}/`;
  if (!u.pathname.endsWith('/') && ggufFileName(u.href) === null) u.pathname += '/';
  return u.href;
}

/**
 * The scheme of models stored from files on this computer rather than downloaded:
 * `local:<hash>/<folder name>/` for a Hugging Face folder, `local:<hash>/<name>.gguf` for a GGUF
 * file, `<hash>` being 16 hex digits of a SHA-256 over the files' names, sizes and contents (see
 * cache/local-import.ts). The same files give the same id on every visit; no request ever names it.
 */
export const LOCAL_SCHEME = 'local:';

/** True for a model stored from local files (a `local:` id). */
export function isLocalModel(url: string): boolean {
  return url.startsWith(LOCAL_SCHEME);
}

/** The `local:` id of a model named `name` (a folder, or a .gguf file when `gguf`) whose contents hash to `hash`. */
export function localModelId(name: string, hash: string, gguf: boolean): string {
  const safe = name.replace(/[\/?#%]/g, '_') || 'model';
  return `${LOCAL_SCHEME}${hash}/${encodeURIComponent(safe)}${gguf ? '' : '/'}`;
}

/** The URL of file `name` of the model at `base`: the GGUF URL itself, or `name` inside the folder. */
export function modelFileUrl(base: string, name: string): string {
  return ggufFileName(base) !== null ? base : base + name;
}
