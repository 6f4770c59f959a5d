// Where the web-llm adapter gets web-llm from (src/webllm/library.ts): beside itself, else the
// pinned CDN URL, else an error that names both and says what to do. The importers are stand-ins:
// a real failed import is a browser fetch (test/webllm/webllm-e2e.test.ts loads the real file).
import { describe, expect, it } from 'vitest';
import { importWebLlmLibrary, WEBLLM_CDN_URL, WEBLLM_VERSION } from '../../src/webllm/library.ts';
import type { WebLlmModule } from '../../src/webllm/webllm-api.ts';

const lib = { prebuiltAppConfig: { model_list: [] } } as unknown as WebLlmModule;
const missing = (what: string) => async (): Promise<WebLlmModule> => {
  throw new TypeError(`Failed to fetch dynamically imported module: ${what}`);
};

describe('importWebLlmLibrary', () => {
  it('uses web-llm.js beside the adapter when it is there, without asking the CDN', async () => {
    const asked: string[] = [];
    expect(await importWebLlmLibrary(WEBLLM_CDN_URL, async () => lib, async (u) => (asked.push(u), lib))).toBe(lib);
    expect(asked).toEqual([]);
  });

  it('falls back to the pinned CDN build', async () => {
    const asked: string[] = [];
    expect(await importWebLlmLibrary(WEBLLM_CDN_URL, missing('web-llm.js'), async (u) => (asked.push(u), lib))).toBe(lib);
    expect(asked).toEqual([`https://cdn.jsdelivr.net/npm/@mlc-ai/web-llm@${WEBLLM_VERSION}/lib/index.js`]);
  });

  it('names both places and the fix when neither answers', async () => {
    const e = await importWebLlmLibrary(WEBLLM_CDN_URL, missing('http://x/dist/web-llm.js'), missing('cdn')).catch((x) => x);
    expect(e.code).toBe('network');
    expect(e.message).toContain('http://x/dist/web-llm.js');
    expect(e.message).toContain(WEBLLM_CDN_URL);
    expect(e.message).toContain(`npm i @mlc-ai/web-llm@${WEBLLM_VERSION}`);
    expect(e.message).toContain('engine="auto"');
  });

  it('is pinned to the version package.json installs', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.devDependencies['@mlc-ai/web-llm']).toBe(WEBLLM_VERSION);
    expect(pkg.peerDependencies['@mlc-ai/web-llm']).toBe(WEBLLM_VERSION);
  });
});
