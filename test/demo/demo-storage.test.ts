// The demo's storage panel says what became of persist(), in headless Chromium (puppeteer-core) on
// tools/serve-demo.mjs (run `npm run build` first). A 60 MB model folder (a sparse file: only its
// size is read before the question) makes the element ask before downloading; clicking Download is
// the user action after which the element asks the browser to keep the site's storage. Three
// answers: granted (the permission granted to the page's origin), unsupported (persist() removed from
// the page), and before any question, "not asked yet". The storage estimate is shown beside them.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import puppeteer, { type Browser, type BrowserContext } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { startDemoServer } from '../../tools/serve-demo.mjs';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist/gpt-chat.js')) && existsSync(join(repo, 'dist/gpt-chat-worker.js'));
const fixture = join(repo, 'test/fixtures/generated/smollm2-135m');
const demoModel = existsSync(join(repo, 'models/gpt-chat-demo/model.safetensors')) ? join(repo, 'models/gpt-chat-demo') : fixture;

describe.skipIf(!built || !existsSync(fixture))('demo storage panel: the persist() outcome', () => {
  let root: string;
  let server: Server;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gpt-chat-storage-'));
    symlinkSync(join(repo, 'demo'), join(root, 'demo'));
    symlinkSync(join(repo, 'dist'), join(root, 'dist'));
    mkdirSync(join(root, 'models/big-model'), { recursive: true });
    symlinkSync(demoModel, join(root, 'models/gpt-chat-demo'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fixture, f), join(root, 'models/big-model', f));
    writeFileSync(join(root, 'models/big-model/model.safetensors'), '');
    truncateSync(join(root, 'models/big-model/model.safetensors'), 60 * 1024 * 1024);
    ({ server, url } = await startDemoServer({ port: 0, host: '127.0.0.1', root }));
    browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Opens the demo in `context`, switches to the big model and confirms its download; the panel's state and text. */
  async function confirmBigDownload(context: BrowserContext, beforePage = ''): Promise<{ before: string; after: string; text: string; estimate: string; answer: unknown }> {
    const page = await context.newPage();
    await page.evaluateOnNewDocument(`localStorage.setItem('gpt-chat-demo-settings', JSON.stringify({ engine: 'cpu' })); ${beforePage}`);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('persistence')!.dataset.persisted, { polling: 50 });
    const before = await page.evaluate(() => document.getElementById('persistence')!.dataset.persisted!);
    await page.evaluate(() => {
      const w = window as unknown as { __storage?: unknown };
      document.querySelector('gpt-chat')!.addEventListener('gpt-chat-storage', (e) => (w.__storage = (e as CustomEvent<{ persisted: unknown }>).detail.persisted));
      document.querySelector('gpt-chat')!.setAttribute('model', '/models/big-model/');
    });
    // Polled: the button appears inside the element's shadow root, which no document observer sees.
    await page.waitForFunction(() => document.querySelector('gpt-chat')!.shadowRoot!.querySelector('[part="download-button"]'), { polling: 50, timeout: 60_000 });
    await page.evaluate(() => document.querySelector('gpt-chat')!.shadowRoot!.querySelector<HTMLButtonElement>('[part="download-button"]')!.click());
    await page.waitForFunction(() => (window as unknown as { __storage?: unknown }).__storage !== undefined, { polling: 50 });
    await page.evaluate(() => (document.querySelector('gpt-chat') as unknown as { cancelLoad(): Promise<void> }).cancelLoad());
    await page.waitForFunction(() => document.getElementById('persistence')!.dataset.asked === 'true', { polling: 50 });
    const result = await page.evaluate(() => ({
      after: document.getElementById('persistence')!.dataset.persisted!,
      text: document.getElementById('persistence')!.textContent!,
      estimate: document.getElementById('storage')!.textContent!,
      answer: (document.querySelector('gpt-chat') as unknown as { persistentStorage: unknown }).persistentStorage,
    }));
    await page.close();
    return { before, ...result };
  }

  it('granted: the panel says the models are kept', async () => {
    const context = await browser.createBrowserContext();
    await context.overridePermissions(url, ['persistent-storage']);
    // With the permission, persisted() is already true: the panel says granted before the question too.
    const r = await confirmBigDownload(context, `Object.defineProperty(StorageManager.prototype, 'persisted', { value: () => Promise.resolve(false) });`);
    expect(r.before).toBe('not-asked');
    expect(r.answer).toBe(true);
    expect(r.after).toBe('granted');
    expect(r.text).toMatch(/Persistent storage: granted/);
    expect(r.estimate).toMatch(/This site uses .* of .* available/);
    await context.close();
  }, 120_000);

  it('unsupported: a browser without persist() is named so', async () => {
    const context = await browser.createBrowserContext();
    const r = await confirmBigDownload(context, `Object.defineProperty(StorageManager.prototype, 'persist', { value: undefined }); Object.defineProperty(StorageManager.prototype, 'persisted', { value: undefined });`);
    expect(r.before).toBe('unsupported');
    expect(r.answer).toBe(null);
    expect(r.text).toMatch(/not supported by this browser/);
    await context.close();
  }, 120_000);
});
