// The demo's "Models on this device" list while the bundled model downloads, in headless Chromium
// (puppeteer-core) on a fresh profile: the server paces the model files to ~1 MB/s, so the download
// lasts a few seconds. Asserts that the list shows the model as a partial download while it
// downloads (before the element is ready), and the complete model, without "partial", once it is;
// and that weights kept by quantize on load show with their model and go with it.
import { existsSync, mkdirSync } from 'node:fs';
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

  it('shows the weights kept as q8_0 with the model, and Delete removes both', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.evaluateOnNewDocument(() => localStorage.setItem('gpt-chat-demo-settings', JSON.stringify({ engine: 'cpu' })));
    await page.goto(served.url, { waitUntil: 'load' });
    const ready = () => page.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string }).status === 'ready', { timeout: 90_000, polling: 100 });
    await ready();
    // the same model quantized on load: the element loads again, and keeps the q8_0 weights after it is ready
    await page.evaluate(() => document.querySelector('gpt-chat')!.setAttribute('quantize', 'q8_0'));
    await page.waitForFunction(
      async () => {
        const chat = document.querySelector('gpt-chat') as unknown as { listCachedModels(): Promise<{ kept: { variant: string; complete: boolean }[] }[]> };
        return (await chat.listCachedModels()).some((m) => m.kept.some((k) => k.variant === 'q8_0' && k.complete));
      },
      { timeout: 90_000, polling: 200 },
    );
    await page.reload({ waitUntil: 'load' });
    const row = await page.waitForFunction(
      () => [...document.querySelectorAll('#cached tr')].find((tr) => tr.textContent?.includes('kept as'))?.querySelector('td.size')?.textContent ?? null,
      { timeout: 30_000, polling: 100 },
    );
    // the model's own bytes (f16, 3.8 MB with its tokenizer), then the q8_0 copy: about half of it
    const [, own, copy] = /^([\d.]+) MB\+ ([\d.]+) MB kept as q8_0$/.exec(String(await row.jsonValue())) ?? [];
    expect(Number(copy) / Number(own)).toBeGreaterThan(0.45);
    expect(Number(copy) / Number(own)).toBeLessThan(0.65);
    // the row as a visitor sees it in the demo's side column, wide and narrow: its buttons stay in
    // view (the aside clips what overflows); screenshots in test-results/screens/ to look at
    mkdirSync(join(repo, 'test-results/screens'), { recursive: true });
    for (const width of [1280, 390]) {
      await page.setViewport({ width, height: 900 });
      const overflow = await page.evaluate(() => {
        const panel = document.querySelector('#cached')!.closest('aside')!.getBoundingClientRect();
        return Math.max(...[...document.querySelectorAll('#cached button')].map((b) => b.getBoundingClientRect().right - panel.right));
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await (await page.$('fieldset:has(#cached)'))!.screenshot({ path: join(repo, `test-results/screens/demo-cached-kept-${width}.png`) });
    }
    await ready();
    await page.evaluate(() => ([...document.querySelectorAll('#cached tr')].find((tr) => tr.textContent?.includes('kept as'))!.querySelector('button[aria-label^="Delete"]') as HTMLButtonElement).click());
    await page.waitForFunction(() => document.querySelector('#cached')!.textContent!.includes('Nothing stored yet.'), { timeout: 30_000, polling: 100 });
    const left = await page.evaluate(async () => (await (document.querySelector('gpt-chat') as unknown as { listCachedModels(): Promise<unknown[]> }).listCachedModels()).length);
    expect(left).toBe(0);
    const keys = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('gpt-chat-cache');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction('files').objectStore('files').count(IDBKeyRange.bound(['derived'], ['derived-partial', []]));
            req.onsuccess = () => resolve(req.result);
          };
        }),
    );
    expect(keys).toBe(0); // no record, progress record or chunk of the kept copy either
    await context.close();
  }, 240_000);
});
