// The README's bundler recipes, built from the packed tarball with Vite and run in headless
// Chromium (puppeteer-core) on `vite preview`, Vite's own server, which answers unknown paths with
// index.html as an app's server would:
// - Vite + vanilla: `import 'gpt-chat/gpt-chat.js'` and a <gpt-chat> without a model. Built as is,
//   the bundled model is not in the app, and the element must say so (naming the URL it tried and
//   what to do) rather than blame the server. With the model copied to public/models/gpt-chat-demo/
//   (the recipe's step), the worker and its WebAssembly load and the element chats.
// - Vite + React 19: the element in JSX, a `gpt-chat-message` listener added through a ref.
// The CPU engine: WebGPU on SwiftShader compiles kernels for a minute (other tests cover it).
// Needs `npm run build` and Chromium.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without type declarations
import { chromiumPath } from '../../tools/check-chromium.mjs';
import { isBuilt, packedProject, repo } from '../helpers/packed-package.ts';

const page = (body: string, script: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>app</title></head><body>${body}<script type="module" src="${script}"></script></body></html>`;

const REACT_MAIN = `
import React, { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'gpt-chat/gpt-chat.js';

function App() {
  const chat = useRef(null);
  const [last, setLast] = useState('');
  useEffect(() => {
    const el = chat.current;
    const onMessage = (e) => setLast(e.detail.content);
    el.addEventListener('gpt-chat-message', onMessage);
    return () => el.removeEventListener('gpt-chat-message', onMessage);
  }, []);
  return (
    <>
      <gpt-chat ref={chat} engine="cpu" max-tokens={8} style={{ height: '300px' }}></gpt-chat>
      <output id="last">{last}</output>
    </>
  );
}
createRoot(document.getElementById('root')).render(<App />);
`;

/** Builds the Vite app in `root` and serves it with `vite preview`. */
async function buildAndPreview(root: string): Promise<{ server: PreviewServer; url: string }> {
  await build({ root, configFile: false, logLevel: 'error' });
  const server = await preview({ root, configFile: false, logLevel: 'error', preview: { port: 0, host: '127.0.0.1' } });
  return { server, url: server.resolvedUrls!.local[0]! };
}

const chatStatus = (p: Page) => p.evaluate(() => (document.querySelector('gpt-chat') as unknown as { status: string } | null)?.status ?? 'none');

async function waitStatus(p: Page, statuses: string[]): Promise<string> {
  await p.waitForFunction((s: string[]) => s.includes((document.querySelector('gpt-chat') as unknown as { status: string } | null)?.status ?? ''), { timeout: 90_000, polling: 100 }, statuses);
  return chatStatus(p);
}

/** Types `text` into the element and resolves with the reply of the gpt-chat-message event. */
async function converse(p: Page, text: string): Promise<string> {
  await p.evaluate(() => {
    const w = window as unknown as { __reply?: string };
    document.querySelector('gpt-chat')!.addEventListener('gpt-chat-message', (e) => (w.__reply = (e as CustomEvent<{ content: string }>).detail.content), { once: true });
  });
  const input = await p.waitForSelector('gpt-chat >>> textarea');
  await input!.type(text);
  await input!.press('Enter');
  await p.waitForFunction(() => (window as unknown as { __reply?: string }).__reply !== undefined, { timeout: 90_000, polling: 100 });
  return p.evaluate(() => (window as unknown as { __reply: string }).__reply);
}

describe.skipIf(!isBuilt())('Vite apps built from the packed package', () => {
  let dir: string;
  let browser: Browser;
  const servers: PreviewServer[] = [];

  beforeAll(async () => {
    dir = packedProject({});
    mkdirSync(join(dir, 'vanilla'));
    writeFileSync(join(dir, 'vanilla/index.html'), page('<gpt-chat engine="cpu" max-tokens="8" style="height:300px"></gpt-chat>', '/main.js'));
    writeFileSync(join(dir, 'vanilla/main.js'), "import 'gpt-chat/gpt-chat.js';\n");
    mkdirSync(join(dir, 'react'));
    writeFileSync(join(dir, 'react/index.html'), page('<div id="root"></div>', '/main.jsx'));
    writeFileSync(join(dir, 'react/main.jsx'), REACT_MAIN);
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('vanilla: without the bundled model in the app, the element says where it looked and what to do', async () => {
    const app = await buildAndPreview(join(dir, 'vanilla'));
    servers.push(app.server);
    const p = await browser.newPage();
    await p.goto(app.url, { waitUntil: 'load' });
    expect(await waitStatus(p, ['error', 'ready'])).toBe('error');
    const shown = await p.evaluate(() => document.querySelector('gpt-chat')!.shadowRoot!.querySelector('[part="status"]')!.textContent!);
    const tried = new URL('models/gpt-chat-demo/', app.url).href;
    expect(shown).toContain(`bundled demo model from ${tried}`);
    expect(shown).toContain('public/models/gpt-chat-demo/');
    expect(shown).toContain('model attribute');
    expect(shown).not.toMatch(/answered config\.json with an HTML page/);
    await p.close();
  });

  it('vanilla: with the model in public/models/gpt-chat-demo/, the worker and WebAssembly load and it chats', async () => {
    cpSync(join(repo, 'models/gpt-chat-demo'), join(dir, 'vanilla/public/models/gpt-chat-demo'), { recursive: true, filter: (src) => !src.includes('/eval') });
    const app = await buildAndPreview(join(dir, 'vanilla'));
    servers.push(app.server);
    const p = await browser.newPage();
    await p.goto(app.url, { waitUntil: 'load' });
    expect(await waitStatus(p, ['error', 'ready'])).toBe('ready');
    expect((await converse(p, 'hello')).length).toBeGreaterThan(0);
    await p.close();
  });

  it('React 19: the element in JSX, events through a ref and addEventListener', async () => {
    cpSync(join(repo, 'models/gpt-chat-demo'), join(dir, 'react/public/models/gpt-chat-demo'), { recursive: true, filter: (src) => !src.includes('/eval') });
    const app = await buildAndPreview(join(dir, 'react'));
    servers.push(app.server);
    const p = await browser.newPage();
    await p.goto(app.url, { waitUntil: 'load' });
    expect(await waitStatus(p, ['error', 'ready'])).toBe('ready');
    // React set the attribute it does not know as a property, and the property it does.
    expect(await p.evaluate(() => [document.querySelector('gpt-chat')!.maxTokens, document.querySelector('gpt-chat')!.engine])).toEqual([8, 'cpu']);
    const reply = await converse(p, 'hello');
    await p.waitForFunction(() => document.getElementById('last')!.textContent !== '', { timeout: 10_000 });
    expect(await p.evaluate(() => document.getElementById('last')!.textContent)).toBe(reply);
    await p.close();
  });
});
