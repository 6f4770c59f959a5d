// CORS refusals told apart from unreachable servers (src/cache/cors.ts). `fetch` is a stand-in
// here (Node has no page origin and no CORS); the real browser case, a model folder on a server
// without CORS headers, is in test/demo/self-hosted.test.ts.
import { describe, expect, it } from 'vitest';
import { corsRefusal, hiddenContentRange } from '../../src/cache/cors.ts';

const page = 'https://site.test';
const refusedByCors: typeof fetch = async (_url, init) => {
  if (init?.mode === 'no-cors') return new Response(null, { status: 200 });
  throw new TypeError('Failed to fetch');
};
const down: typeof fetch = async () => {
  throw new TypeError('Failed to fetch');
};

describe('corsRefusal', () => {
  it('names the origin and the header to send when the server answers no-cors requests', async () => {
    const e = await corsRefusal(refusedByCors, 'https://models.test/m/config.json', undefined, page);
    expect(e?.code).toBe('cors');
    expect(e?.message).toMatch(/The server at https:\/\/models\.test does not allow this page \(https:\/\/site\.test\) to read https:\/\/models\.test\/m\/config\.json/);
    expect(e?.message).toMatch(/Access-Control-Allow-Origin/);
  });

  it('is no CORS problem when the server is down for everyone, or on the page\'s own origin', async () => {
    expect(await corsRefusal(down, 'https://models.test/m/config.json', undefined, page)).toBeUndefined();
    expect(await corsRefusal(refusedByCors, 'https://site.test/m/config.json', undefined, page)).toBeUndefined();
  });
});

describe('hiddenContentRange', () => {
  it('a cross-origin 206 without a readable Content-Range says to expose it', () => {
    const res = { type: 'cors', headers: new Headers() } as Response;
    expect(hiddenContentRange(res, 'https://models.test/m/model.safetensors')?.message).toMatch(/Access-Control-Expose-Headers: Content-Length, Content-Range/);
    const exposed = { type: 'cors', headers: new Headers({ 'content-range': 'bytes 0-1/2' }) } as Response;
    expect(hiddenContentRange(exposed, 'x')).toBeUndefined();
    expect(hiddenContentRange({ type: 'basic', headers: new Headers() } as Response, 'x')).toBeUndefined();
  });
});
