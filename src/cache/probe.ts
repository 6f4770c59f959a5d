/**
 * Finds out which files a model folder has, how big they are and their validators (ETag,
 * Last-Modified), with HEAD requests: the sizes drive the quota check and the progress totals, the
 * validators tell a resumed or refreshed download whether the remote file changed.
 */
import { GptError } from '../errors.ts';
import { ggufFileName } from '../formats/model-location.ts';
import { contentLength } from '../formats/http-body.ts';
import { corsRefusal } from './cors.ts';
import { checkResponse } from './response-check.ts';

/** What the server says about one file. */
export interface RemoteFile {
  readonly name: string;
  /** Null when the server sent no usable Content-Length (chunked or compressed). */
  readonly size: number | null;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly contentType: string | null;
}

/** The files of a model folder the cache stores, and the optional ones the server lacks. */
export interface RemoteFolder {
  readonly files: RemoteFile[];
  readonly absent: string[];
}

/** Files the loader needs; a missing one fails the download. */
const REQUIRED_TEXT = ['config.json'];
/**
 * Files some checkpoints lack; recorded as absent, not an error. Recent transformers saves the chat
 * template as chat_template.jinja (or chat_template.json) beside tokenizer_config.json.
 */
const OPTIONAL_TEXT = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'chat_template.jinja', 'chat_template.json'];

/** Reads size and validators from response headers. */
export function remoteFile(name: string, res: Response): RemoteFile {
  return {
    name,
    size: contentLength(res.headers),
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
    contentType: res.headers.get('content-type'),
  };
}

async function request(fetchFn: typeof fetch, url: string, init: RequestInit, name: string): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw new GptError('aborted', `Loading ${url} was aborted.`);
    const refused = await corsRefusal(fetchFn, url, init.signal ?? undefined);
    if (refused) throw refused;
    throw new GptError('network', `Could not reach ${url} for ${name} (${e instanceof Error ? e.message : String(e)}). HINT: check the connection and the URL; a cached model loads offline.`);
  }
}

/**
 * HEAD one file; null when the server says it does not exist. For an `optional` file an HTML page
 * counts as absent too: app servers (Vite's, SPA hosts) answer every unknown path with index.html.
 */
async function head(fetchFn: typeof fetch, base: string, name: string, signal?: AbortSignal, optional = false): Promise<RemoteFile | null> {
  const res = await request(fetchFn, base + name, { method: 'HEAD', signal }, name);
  if (res.status === 404 || res.status === 410) return null;
  if (optional && res.ok && /^(text\/html|application\/xhtml)/i.test(res.headers.get('content-type') ?? '')) return null;
  checkResponse(res, base, name);
  return remoteFile(name, res);
}

/** Shard file names of a safetensors index, in order, each once. */
export function shardNames(indexText: string, base: string): string[] {
  let index: unknown;
  try {
    index = JSON.parse(indexText);
  } catch (e) {
    throw new GptError('bad-json', `${base}model.safetensors.index.json is not valid JSON (${(e as Error).message}).`);
  }
  const map = (index as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== 'object') {
    throw new GptError('bad-json', `${base}model.safetensors.index.json has no "weight_map" object. HINT: it should map tensor names to shard files.`);
  }
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const n of names) {
    if (typeof n !== 'string' || !/^[\w.-]+\.safetensors$/.test(n)) {
      throw new GptError('bad-json', `${base}model.safetensors.index.json: weight_map names shard ${JSON.stringify(n)}, expected a file name ending in .safetensors.`);
    }
  }
  return (names as string[]).sort();
}

/**
 * Lists the folder: config.json and the tokenizer files, then model.safetensors, or
 * model.safetensors.index.json and every shard it names.
 */
export async function probeFolder(base: string, fetchFn: typeof fetch, signal?: AbortSignal): Promise<RemoteFolder> {
  const gguf = ggufFileName(base);
  if (gguf !== null) {
    // one GGUF file is the whole model: config, tokenizer and weights
    const res = await request(fetchFn, base, { method: 'HEAD', signal }, gguf);
    checkResponse(res, base, gguf);
    return { files: [remoteFile(gguf, res)], absent: [] };
  }
  const files: RemoteFile[] = [];
  const absent: string[] = [];
  for (const name of REQUIRED_TEXT) {
    const file = await head(fetchFn, base, name, signal);
    if (!file) throw new GptError('file-missing', `${base}${name} was not found (HTTP 404). HINT: the URL must point at a model folder with config.json in it (Hugging Face: https://huggingface.co/<org>/<model>/resolve/main/).`);
    files.push(file);
  }
  // The optional files at once: most are small and several are usually absent (one round trip each).
  const optional = await Promise.all(OPTIONAL_TEXT.map((name) => head(fetchFn, base, name, signal, true)));
  OPTIONAL_TEXT.forEach((name, i) => (optional[i] ? files.push(optional[i]) : absent.push(name)));
  const single = await head(fetchFn, base, 'model.safetensors', signal);
  if (single) {
    files.push(single);
    return { files, absent };
  }
  const indexName = 'model.safetensors.index.json';
  const res = await request(fetchFn, base + indexName, { signal }, indexName);
  if (res.status === 404 || res.status === 410) {
    throw new GptError('file-missing', `${base}: neither model.safetensors nor ${indexName} was found (HTTP 404). HINT: only safetensors checkpoints are supported; check the URL.`);
  }
  checkResponse(res, base, indexName);
  files.push(remoteFile(indexName, res));
  for (const shard of shardNames(await res.text(), base)) {
    const file = await head(fetchFn, base, shard, signal);
    if (!file) throw new GptError('file-missing', `${base}${shard}, named in ${indexName}, was not found (HTTP 404).`);
    files.push(file);
  }
  return { files, absent: [...absent, 'model.safetensors'] };
}
