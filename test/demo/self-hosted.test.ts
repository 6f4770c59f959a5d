// A model folder on a server of one's own, in headless Chromium (puppeteer-core): the page on the
// demo server (tools/serve-demo.mjs, `npm run build` first), the model on a second origin whose
// server sends no CORS headers. The element must say that the server does not allow this page to
// read it and name the header to send, not "could not reach".
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { startDemoServer } from '../../tools/serve-demo.mjs';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist/gpt-chat.js'));
const model = join(repo, 'models/gpt-chat-demo');

/** A static file server for the model folder with no Access-Control-* headers at all. */
function noCorsServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const file = join(model, new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, ''));
    if (!file.startsWith(model) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': statSync(file).size, 'Content-Type': 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

describe.skipIf(!built || !existsSync(join(model, 'config.json')))('a self-hosted model folder', () => {
  let browser: Browser;
  let demo: { server: Server; url: string };
  let models: Server;

  beforeAll(async () => {
    models = await noCorsServer();
    const modelUrl = `http://127.0.0.1:${(models.address() as AddressInfo).port}/`;
    demo = await startDemoServer({
      port: 0,
      host: '127.0.0.1',
      root: repo,
      pages: { '/self-hosted.html': `<!doctype html><html lang="en"><title>self-hosted</title><script type="module" src="/dist/gpt-chat.js"></script><gpt-chat engine="cpu" autoload model="${modelUrl}" style="height:300px"></gpt-chat>` },
    });
    browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    demo?.server.close();
    models?.close();
  });

  it('says the server does not allow this page to read it, and which header to send', async () => {
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => {
      document.addEventListener('gpt-chat-error', (e) => ((window as unknown as { __error: unknown }).__error = (e as CustomEvent).detail));
    });
    await page.goto(demo.url + 'self-hosted.html', { waitUntil: 'load' });
    await page.waitForFunction(() => !!(window as unknown as { __error?: unknown }).__error, { timeout: 60_000, polling: 100 });
    const error = await page.evaluate(() => (window as unknown as { __error: { code: string; message: string } }).__error);
    expect(error.code).toBe('cors');
    expect(error.message).toMatch(/^The server at http:\/\/127\.0\.0\.1:\d+ does not allow this page \(http:\/\/127\.0\.0\.1:\d+\) to read /);
    expect(error.message).toMatch(/Access-Control-Allow-Origin/);
    const shown = await page.$eval('gpt-chat >>> [role="alert"]', (a) => a.textContent);
    expect(shown).toContain('does not allow this page');
    await page.close();
  }, 120_000);
});
