import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/cache/cache-store.ts';
import { listCachedModels } from '../../src/cache/manage.ts';
import { openCachedModel } from '../../src/cache/open-cached-model.ts';
import { chunkKey, manifestKey } from '../../src/cache/manifest.ts';
import { beforeXxh64 } from '../helpers/older-manifest.ts';
import { canonicalModelUrl } from '../../src/formats/model-location.ts';
import { GptError } from '../../src/errors.ts';
import { loadLanguageModel } from '../../src/runtime/index.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';
import { GGML_TYPE, ggufBytes, kv } from '../../tools/gguf-writer.mjs';

/**
 * A static server over in-memory files (HEAD, GET, single Range requests), counting requests: the
 * seam is fetch itself, as the browser calls it.
 */
function server(files: Record<string, Uint8Array>) {
  const requests: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = init.method ?? 'GET';
    requests.push(`${method} ${url}`);
    const body = files[url];
    if (!body) return new Response('not found', { status: 404 });
    const headers: Record<string, string> = { 'content-length': String(body.length), etag: '"v1"', 'content-type': 'application/octet-stream' };
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    const range = new Headers(init.headers).get('range');
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : body.length - 1;
      const part = body.slice(start, end + 1);
      return new Response(part, { status: 206, headers: { ...headers, 'content-length': String(part.length), 'content-range': `bytes ${start}-${end}/${body.length}` } });
    }
    return new Response(body.slice(), { status: 200, headers });
  }) as typeof fetch;
  return { fetch: fetchFn, requests };
}

const HOST = 'https://models.example/repo/resolve/main/';
const fixture = new Uint8Array(readFileSync('test/fixtures/generated/gguf/qwen2.5-0.5b.gguf'));

describe('the cache with a .gguf URL', () => {
  it('keeps the URL of the file as the model key (no trailing slash) and refuses a shard', () => {
    expect(canonicalModelUrl(`${HOST}x.Q4_K_M.gguf`)).toBe(`${HOST}x.Q4_K_M.gguf`);
    expect(canonicalModelUrl(`${HOST}folder`)).toBe(`${HOST}folder/`);
    expect(() => canonicalModelUrl(`${HOST}x-00002-of-00004.gguf`)).toThrow(/part 2 of a GGUF split into 4 files/);
  });

  it('downloads one file in chunks, with Range, then loads it from the store alone, like the file on disk', async () => {
    const url = `${HOST}qwen.gguf`;
    const { fetch, requests } = server({ [url]: fixture });
    const store = memoryStore();
    const files = await openCachedModel(url, { fetch, store, chunkSize: 64 * 1024 });
    expect(files.ggufFile).toBe('qwen.gguf');
    expect(files.manifest.files.map((f) => [f.name, f.size, f.chunks.length])).toEqual([['qwen.gguf', fixture.length, Math.ceil(fixture.length / 65536)]]);
    expect(requests.filter((r) => r.startsWith('HEAD'))).toEqual([`HEAD ${url}`]); // no config.json probe
    const fromCache = await loadLanguageModel(files, { backend: 'cpu' });
    const fromDisk = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/gguf/qwen2.5-0.5b.gguf'), { backend: 'cpu' });
    try {
      expect(Array.from(await fromCache.model.prefill([1, 2, 3]))).toEqual(Array.from(await fromDisk.model.prefill([1, 2, 3])));
      expect(fromCache.location).toBe(url);
    } finally {
      fromCache.dispose();
      fromDisk.dispose();
    }
    const before = requests.length;
    const again = await openCachedModel(url, { fetch, store, chunkSize: 64 * 1024 });
    expect(requests.length).toBe(before); // complete: served from the store without a request
    expect(again.ggufFile).toBe('qwen.gguf');
    expect((await listCachedModels(store)).map((m) => [m.url, m.complete])).toEqual([[url, true]]);
  });

  // A chunk recorded with its XXH64 is checked before the runtime gets it. In a cache written before
  // XXH64 (SHA-256 only), chunks after a file's first are handed to the runtime while their SHA-256
  // runs; the load awaits those checks before the model can run, and asks them before it blames the
  // file for an error. Either way the damage is the error.
  describe.each([['recorded with XXH64', true], ['written before XXH64, read before its check ends', false]])('a damaged chunk %s', (_, xxh64) => {
    const url = `${HOST}qwen.gguf`;
    /** The fixture cached in 1 KiB chunks (its header spans several), with `damage` done to the stored chunk holding byte `at`. */
    async function damaged(at: number, damage: (bytes: Uint8Array, i: number) => void) {
      const { fetch } = server({ [url]: fixture });
      const store = memoryStore();
      const files = await openCachedModel(url, { fetch, store, chunkSize: 1024 });
      const f = files.manifest.files[0]!;
      const index = Math.floor(at / 1024);
      expect(index).toBeGreaterThan(0); // past the first chunk, which is checked before it is read
      const bytes = (await store.get<Uint8Array>(chunkKey(url, f, index)))!;
      damage(bytes, at % 1024);
      await store.write([[chunkKey(url, f, index), bytes]]);
      if (!xxh64) await store.write([[manifestKey(url), beforeXxh64(files.manifest)]]);
      const again = await openCachedModel(url, { fetch: () => Promise.reject(new Error('offline')), store, chunkSize: 1024 });
      expect(again.manifest.files[0]!.chunks.every((c) => (c!.xxh64 !== undefined) === xxh64)).toBe(true);
      return { store, files: again };
    }
    const loadError = (files: Parameters<typeof loadLanguageModel>[0]) =>
      loadLanguageModel(files, { backend: 'cpu' }).then(
        (m) => {
          m.dispose();
          throw new Error('expected the load to fail');
        },
        (e: unknown) => e as GptError,
      );

    it('fails the load with integrity when a weight byte was flipped, and drops the cached copy', async () => {
      const { store, files } = await damaged(fixture.length - 100, (b, i) => (b[i] ^= 0x10));
      const e = await loadError(files);
      expect(e.code).toBe('integrity');
      expect(e.message).toMatch(/qwen\.gguf: cached chunk \d+ .* does not match the hash recorded/);
      expect((await listCachedModels(store)).filter((m) => m.complete)).toEqual([]);
    });

    it('reports the damage, not a bad file, when the damaged bytes broke the header', async () => {
      // n_dims of the first tensor in the table, past the first chunk: 0x7f makes the header invalid
      const name = new TextEncoder().encode('token_embd.weight');
      let at = -1;
      for (let i = 1024; i < fixture.length && at < 0; i++) if (name.every((c, j) => fixture[i + j] === c)) at = i + name.length;
      const { files } = await damaged(at, (b, i) => (b[i] = 0x7f));
      const e = await loadError(files);
      expect(e.code).toBe('integrity'); // a 'bad-gguf' here would delete the model instead of repairing it
      expect(e.message).toMatch(/does not match the hash recorded/);
    });
  });

  const malformed: [string, Uint8Array, RegExp][] = [
    ['bad magic', ggufBytes({ magic: 'GGML', metadata: [kv.str('general.architecture', 'llama')] }), /does not start with the GGUF magic/],
    ['version 1', ggufBytes({ version: 1, metadata: [kv.str('general.architecture', 'llama')] }), /GGUF version 1/],
    ['count of 2^60', ggufBytes({ kvCount: 2n ** 60n }), /metadata_kv_count is 1152921504606846976/],
    ['overlapping tensors', ggufBytes({ tensors: [
      { name: 'a', dims: [8], type: GGML_TYPE.F32, bytes: new Uint8Array(32), offset: 0 },
      { name: 'b', dims: [8], type: GGML_TYPE.F32, bytes: new Uint8Array(32), offset: 0 },
    ] }), /overlap/],
    ['unknown tensor type', ggufBytes({ tensors: [{ name: 'a', dims: [8], type: 77, bytes: new Uint8Array(32) }] }), /ggml type id 77/],
  ];
  for (const [name, bytes, message] of malformed) {
    it(`refuses a GGUF with ${name} and caches nothing as complete`, async () => {
      const url = `${HOST}bad.gguf`;
      const { fetch } = server({ [url]: bytes });
      const store = memoryStore();
      const err = await openCachedModel(url, { fetch, store, chunkSize: 1024, retries: 0 }).then(
        () => { throw new Error('expected an error'); },
        (e: unknown) => e as GptError,
      );
      expect(err).toBeInstanceOf(GptError);
      expect(err.message).toMatch(message);
      expect((await listCachedModels(store)).filter((m) => m.complete)).toEqual([]);
      expect(await store.keys(['chunk'])).toEqual([]);
    });
  }
});
