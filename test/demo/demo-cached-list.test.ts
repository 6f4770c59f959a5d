// The demo's "Models on this device" list while the bundled model downloads, in headless Chromium
// (puppeteer-core) on a fresh profile: the server paces the model files to ~1 MB/s, so the download
// lasts a few seconds. Asserts that the list shows the model as a partial download while it
// downloads (before the element is ready), and the complete model, without "partial", once it is.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { startDemoServer } from '../../tools/serve-demo.mjs';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist/gpt-chat.js')) && existsSync(join(repo, 'dist/gpt-chat-worker.js'));
const hasDemoModel = existsSync(join(repo, 'models/gpt-chat-demo/model.safetensors'));

describe.skipIf(!built || !hasDemoModel)('demo: models on this device during a download', () => {
  let browser: Browser;
  let served: { server: Server; url: string };

  beforeAll(async () => {
    served = await startDemoServer({ port: 0, host: '127.0.0.1', root: repo, modelBytesPerSecond: 1_000_000 });
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    served?.server.close();
  });

  it('lists the model as partial while it downloads, then as complete', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.evaluateOnNewDocument(() => localStorage.setItem('gpt-chat-demo-settings', JSON.stringify({ engine: 'cpu' })));
    await page.goto(served.url, { waitUntil: 'load' });
    // while the element is still loading, a row for the demo model says how much is stored so far
    const during = await page.waitForFunction(
      () => {
        const row = [...document.querySelectorAll('#cached tr')].find((tr) => tr.textContent?.includes('gpt-chat-demo'));
        const loading = (document.querySelector('gpt-chat') as unknown as { status: string }).status !== 'ready';
        return row && loading ? row.textContent : null;
      },
      { timeout: 60_000, polling: 50 },
    );
    expect(await during.jsonValue()).toMatch(/\(partial: .+ of .+\)/);
    await page.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string }).status === 'ready', { timeout: 90_000, polling: 100 });
    // once ready, the same row no longer says partial
    const after = await page.waitForFunction(
      () => {
        const row = [...document.querySelectorAll('#cached tr')].find((tr) => tr.textContent?.includes('gpt-chat-demo'));
        return row && !row.textContent!.includes('partial') ? row.textContent : null;
      },
      { timeout: 30_000, polling: 100 },
    );
    expect(await after.jsonValue()).toMatch(/gpt-chat-demo/);
    await context.close();
  }, 180_000);
});
