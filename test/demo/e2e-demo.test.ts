// End to end on the demo page in headless Chromium (puppeteer-core), served by tools/serve-demo.mjs
// from dist/ (run `npm run build` first): first visit downloads the bundled model with progress and
// chats; a reload reads the model from IndexedDB with zero requests for model files; with the
// browser offline the page (service worker) and the chat still work; the bundle and model served
// from another origin work too. Saves docs/screenshot.png mid-conversation.
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { startDemoServer } from '../../tools/serve-demo.mjs';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist/gpt-chat.js')) && existsSync(join(repo, 'dist/gpt-chat-worker.js'));
const demoModel = join(repo, 'models/gpt-chat-demo');
const hasDemoModel = existsSync(join(demoModel, 'config.json')) && existsSync(join(demoModel, 'model.safetensors'));
// Until the bundled model exists, the demo is served with a generated fixture in its place.
const fixture = join(repo, 'test/fixtures/generated/smollm2-135m');

/** A served folder: the repo itself, or demo/ and dist/ beside a stand-in models/gpt-chat-demo/. */
function servedRoot(): string {
  if (hasDemoModel) return repo;
  const root = mkdtempSync(join(tmpdir(), 'gpt-chat-e2e-'));
  symlinkSync(join(repo, 'demo'), join(root, 'demo'));
  symlinkSync(join(repo, 'dist'), join(root, 'dist'));
  mkdirSync(join(root, 'models'));
  symlinkSync(fixture, join(root, 'models/gpt-chat-demo'));
  return root;
}

interface Served {
  server: Server;
  url: string;
  modelRequests: string[];
}

async function serve(root: string, pages: Record<string, string> = {}): Promise<Served> {
  const modelRequests: string[] = [];
  const { server, url } = await startDemoServer({ port: 0, host: '127.0.0.1', root, pages, onRequest: (path: string) => path.startsWith('/models/') && modelRequests.push(path) });
  return { server, url, modelRequests };
}

/** Status of the page's <gpt-chat>, inside its shadow root. */
const status = (page: Page) => page.evaluate(() => (document.querySelector('gpt-chat') as unknown as { status: string } | null)?.status ?? 'none');

async function waitReady(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string } | null)?.status === 'ready', { timeout, polling: 100 });
}

/** Sends `text` by typing into the element's input and pressing Enter; resolves with the events seen. */
async function converse(page: Page, text: string): Promise<{ tokens: number; reply: string }> {
  await page.evaluate(() => {
    const w = window as unknown as { __chat: { tokens: number; reply?: string } };
    w.__chat = { tokens: 0 };
    const el = document.querySelector('gpt-chat')!;
    el.addEventListener('gpt-chat-token', () => w.__chat.tokens++);
    el.addEventListener('gpt-chat-message', (e) => (w.__chat.reply = (e as CustomEvent<{ content: string }>).detail.content), { once: true });
  });
  const input = await page.waitForSelector('gpt-chat >>> textarea');
  await input!.type(text);
  await input!.press('Enter');
  await page.waitForFunction(() => (window as unknown as { __chat: { reply?: string } }).__chat.reply !== undefined, { timeout: 90_000, polling: 100 });
  return page.evaluate(() => (window as unknown as { __chat: { tokens: number; reply: string } }).__chat);
}

describe.skipIf(!built)('demo page end to end', () => {
  let browser: Browser;
  let root: string;
  let main: Served;
  let cdn: Served;

  beforeAll(async () => {
    root = servedRoot();
    cdn = await serve(root);
    // The page of the cross-origin case lives on `main` and loads everything else from `cdn`.
    main = await serve(root, {
      '/cross-origin.html': `<!doctype html><html lang="en"><title>cross-origin</title><script type="module" src="${cdn.url}dist/gpt-chat.js"></script><gpt-chat engine="cpu" max-tokens="8" style="height:300px"></gpt-chat>`,
    });
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    main?.server.close();
    cdn?.server.close();
    if (root && root !== repo) rmSync(root, { recursive: true, force: true });
  });

  it('downloads with progress, streams a reply, then works from the cache and offline', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 720 });
    await page.evaluateOnNewDocument(() => {
      // The CPU engine: WebGPU on SwiftShader compiles its kernels for a minute on this machine
      // (element-engine.browser.test.ts covers WebGPU).
      if (!localStorage.getItem('gpt-chat-demo-settings')) localStorage.setItem('gpt-chat-demo-settings', JSON.stringify({ engine: 'cpu' }));
      const w = window as unknown as { __progress: number[] };
      w.__progress = [];
      document.addEventListener('gpt-chat-load-progress', (e) => w.__progress.push((e as CustomEvent<{ loaded: number }>).detail.loaded));
    });
    await page.goto(main.url, { waitUntil: 'load' });
    await waitReady(page);
    const progress = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(main.modelRequests.some((p) => p.endsWith('model.safetensors'))).toBe(true);

    const first = await converse(page, 'hello');
    expect(first.tokens).toBeGreaterThan(1); // several token events before the message event
    expect(first.reply.length).toBeGreaterThan(0);
    mkdirSync(join(repo, 'docs'), { recursive: true });
    await page.screenshot({ path: join(repo, 'docs/screenshot.png') });

    // The service worker must control the page before the network goes away.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));

    // Reload online: the model comes from IndexedDB, no request for any model file.
    main.modelRequests.length = 0;
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    expect(await page.evaluate(() => document.querySelector('gpt-chat')!.shadowRoot!.querySelector('.header')!.textContent)).toContain('from this device');
    expect(main.modelRequests).toEqual([]);

    // Offline: the page comes from the service worker, the model from IndexedDB.
    await page.setOfflineMode(true);
    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    const offline = await converse(page, 'how do I embed it?');
    expect(offline.tokens).toBeGreaterThan(1);
    expect(main.modelRequests).toEqual([]);
    // The conversation persisted (persist="demo") across both reloads.
    expect(await page.evaluate(() => (document.querySelector('gpt-chat') as unknown as { messages: unknown[] }).messages.length)).toBe(4);
    await page.setOfflineMode(false);
    await page.close();
  }, 300_000);

  it('chats when the page is on one origin and the bundle and model on another', async () => {
    // A fresh context: no service worker or cache from the first test answers for this origin.
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const pageUrl = main.url + 'cross-origin.html';
    const bundle = cdn.url + 'dist/gpt-chat.js';
    cdn.modelRequests.length = 0;
    await page.goto(pageUrl, { waitUntil: 'load' });
    expect(new URL(page.url()).origin).not.toBe(new URL(bundle).origin);
    await waitReady(page);
    const { tokens } = await converse(page, 'hi');
    expect(tokens).toBeGreaterThan(0);
    expect(await status(page)).toBe('ready');
    expect(cdn.modelRequests.some((p) => p.endsWith('model.safetensors'))).toBe(true);
    await context.close();
  }, 200_000);
});
