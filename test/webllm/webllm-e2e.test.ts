// engine="webllm" in headless Chromium from dist/ (run `npm run build` first): the worker fetches
// dist/gpt-chat-webllm.js only when that engine is asked for, and the real web-llm bundle runs far
// enough to check the model id against web-llm's real prebuiltAppConfig. An unknown id stops there,
// before any download: web-llm's real models (hundreds of MB, shader support) cannot run here.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { startDemoServer } from '../../tools/serve-demo.mjs';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist/gpt-chat-worker.js')) && existsSync(join(repo, 'dist/gpt-chat-webllm.js'));

const page = (attrs: string) => `<!doctype html><html lang="en"><title>webllm</title><script type="module" src="/dist/gpt-chat.js"></script><gpt-chat ${attrs} autoload style="height:300px"></gpt-chat>`;

/** The element's error message once it shows one. */
async function errorOf(p: Page): Promise<string> {
  await p.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string } | null)?.status === 'error', { timeout: 60_000, polling: 100 });
  return p.evaluate(() => document.querySelector('gpt-chat')!.shadowRoot!.querySelector('.error span')?.textContent ?? '');
}

describe.skipIf(!built)('engine="webllm" in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  const requests: string[] = [];

  beforeAll(async () => {
    ({ server, url } = await startDemoServer({
      port: 0,
      host: '127.0.0.1',
      root: repo,
      pages: { '/webllm.html': page('engine="webllm" model="Not-A-Real-Model-MLC"'), '/nomodel.html': page('engine="cpu" model="/no/such/model/"') },
      onRequest: (path: string) => requests.push(path),
    }));
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('our own engines never fetch gpt-chat-webllm.js', async () => {
    requests.length = 0;
    const p = await browser.newPage();
    await p.goto(url + 'nomodel.html');
    await errorOf(p);
    expect(requests.some((r) => r.endsWith('/gpt-chat-worker.js'))).toBe(true);
    expect(requests.some((r) => r.includes('gpt-chat-webllm'))).toBe(false);
    await p.close();
  });

  it('engine="webllm" imports the web-llm bundle in the worker and rejects an unknown id with valid ones', async () => {
    requests.length = 0;
    const p = await browser.newPage();
    await p.goto(url + 'webllm.html');
    const message = await errorOf(p);
    expect(requests).toContain('/dist/gpt-chat-webllm.js');
    // With WebGPU the id is checked against web-llm's real list; headless Chromium without an
    // adapter stops one step earlier, at the WebGPU check. Either way the bundle ran.
    expect(message).toMatch(/no prebuilt model "Not-A-Real-Model-MLC".*SmolLM2|needs WebGPU.*engine="auto"/);
    // web-llm itself comes from web-llm.js beside the adapter, never from the CDN fallback here.
    if (/no prebuilt model/.test(message)) expect(requests).toContain('/dist/web-llm.js');
    await p.close();
  });
});
