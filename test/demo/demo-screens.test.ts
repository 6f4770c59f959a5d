// The demo page at phone and desktop widths in headless Chromium (puppeteer-core), served by
// tools/serve-demo.mjs from dist/ (run `npm run build` first), on the bundled model and the CPU
// engine. Asserts that nothing is wider than its panel (scrollWidth <= clientWidth for the page, the
// sidebar, the template editor and each of its fieldsets, the chat) with the template editor open
// and filled (examples, "try it" bars, a confusion matrix) at 390, 1280 and 1600 px; and that text
// is readable in light and dark (contrast of each bubble's text on its background, the bar track
// visible), also for a host that themes the background only. Screenshots go to
// test-results/screens/ for a person to look at.
import { existsSync, mkdirSync } from 'node:fs';
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
const hasDemoModel = existsSync(join(repo, 'models/gpt-chat-demo/model.safetensors'));
const screens = join(repo, 'test-results/screens');

/** Every panel wider inside than its box, and every control of the editor outside the editor. */
function overflows(): string[] {
  const out: string[] = [];
  const check = (name: string, el: Element | null | undefined) => {
    if (el && el.scrollWidth > el.clientWidth) out.push(`${name}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
  };
  check('page', document.documentElement);
  check('sidebar', document.querySelector('aside'));
  const chat = document.querySelector('gpt-chat')!.shadowRoot!;
  check('chat', chat.querySelector('.base'));
  check('chat log', chat.querySelector('.log'));
  const editor = document.querySelector('gpt-template-editor')!.shadowRoot!;
  const base = editor.querySelector('.base')!;
  check('editor', base);
  editor.querySelectorAll('fieldset').forEach((f) => check(`editor fieldset "${f.querySelector('legend')?.textContent?.trim()}"`, f));
  const box = base.getBoundingClientRect();
  editor.querySelectorAll('button, .button, input:not([type=file]), select, textarea').forEach((c) => {
    const r = c.getBoundingClientRect();
    if (r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5)) out.push(`editor control "${c.getAttribute('aria-label') ?? c.className}" sticks out (${r.left}-${r.right} of ${box.left}-${box.right})`);
    // a button whose text is cut ("Sa" for Save)
    if ((c.tagName === 'BUTTON' || c.classList.contains('button')) && c.scrollWidth > c.clientWidth + 1) out.push(`editor control "${c.textContent?.trim()}" cut off`);
  });
  return out;
}

/** WCAG contrast of an element's text colour on its own background colour. */
function contrasts(selectors: string[]): Record<string, number> {
  const rgb = (c: string) => {
    const ctx = document.createElement('canvas').getContext('2d')!;
    ctx.fillStyle = c;
    ctx.fillRect(0, 0, 1, 1);
    return [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3);
  };
  const lum = (c: string) => {
    const [r, g, b] = rgb(c).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const out: Record<string, number> = {};
  const root = document.querySelector('gpt-chat')!.shadowRoot!;
  for (const sel of selectors) {
    const el = root.querySelector(sel);
    if (!el) continue;
    const style = getComputedStyle(el);
    const bg = style.backgroundColor === 'rgba(0, 0, 0, 0)' ? getComputedStyle(root.querySelector('.base')!).backgroundColor : style.backgroundColor;
    const [a, b] = [lum(style.color), lum(bg)];
    out[sel] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}

describe.skipIf(!built || !hasDemoModel)('demo page layout and colours', () => {
  let browser: Browser;
  let served: { server: Server; url: string };

  beforeAll(async () => {
    served = await startDemoServer({ port: 0, host: '127.0.0.1', root: repo });
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    mkdirSync(screens, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    served?.server.close();
  });

  /** A fresh profile with the demo on the CPU engine, `settings` merged in, at `width` px. */
  async function open(width: number, scheme: 'light' | 'dark', settings: Record<string, string> = {}): Promise<Page> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.bringToFront();
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await page.setViewport({ width, height: 900 });
    await page.evaluateOnNewDocument((s) => localStorage.setItem('gpt-chat-demo-settings', s), JSON.stringify({ engine: 'cpu', ...settings }));
    await page.goto(served.url, { waitUntil: 'load' });
    await page.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string }).status === 'ready', { timeout: 90_000, polling: 100 });
    return page;
  }

  /**
   * Waits for `selector` inside the shadow root of `host`, polling on a timer: waitForSelector
   * polls on animation frames, which a page in a second browser context may not get.
   */
  async function shadowSelector(page: Page, host: string, selector: string, timeout = 60_000): Promise<void> {
    await page.waitForFunction((h, s) => !!document.querySelector(h)?.shadowRoot?.querySelector(s), { timeout, polling: 100 }, host, selector);
  }

  async function say(page: Page, text: string): Promise<void> {
    const input = await page.$('gpt-chat >>> textarea');
    await input!.type(text);
    await input!.press('Enter');
    await page.waitForFunction(() => (document.querySelector('gpt-chat') as unknown as { status: string }).status === 'ready', { timeout: 60_000, polling: 100 });
  }

  for (const width of [390, 1280, 1600]) {
    it(`fits the template editor at ${width} px`, async () => {
      const page = await open(width, 'light');
      await page.evaluate(() => ((document.querySelector('details.editor') as HTMLDetailsElement).open = true));
      // fill it the way a user would: a try-it query and an evaluation with a confusion matrix
      const editor = await page.$('gpt-template-editor');
      await shadowSelector(page, 'gpt-template-editor', 'input.try-text');
      const tryText = await page.$('gpt-template-editor >>> input.try-text');
      await tryText!.type('What a wonderful, thoughtful and beautifully made film this was');
      // clicks by script: the aside re-lays out as the token count arrives, and a click at
      // coordinates measured before that can miss (this test is about layout, not pointer input)
      await page.$eval('gpt-template-editor >>> button.try-button', (b) => (b as HTMLButtonElement).click());
      await shadowSelector(page, 'gpt-template-editor', '.try .bars');
      await page.$eval('gpt-template-editor >>> textarea.eval-items', (t) => ((t as HTMLTextAreaElement).value = 'I loved every minute\tpositive\nBoring and far too long\tnegative\nThe best meal of my life\tpositive'));
      await page.$eval('gpt-template-editor >>> button.eval-button', (b) => (b as HTMLButtonElement).click());
      await shadowSelector(page, 'gpt-template-editor', 'table.confusion');
      expect(await page.evaluate(overflows)).toEqual([]);
      // "Models on this device": a URL breaks between path segments, never inside one
      await page.waitForFunction(() => document.querySelectorAll('#cached td.url .segment').length > 1, { polling: 100 });
      expect(await page.$$eval('#cached td.url .segment', (s) => s.filter((x) => x.getClientRects().length > 1).map((x) => x.textContent))).toEqual([]);
      // narrow editors stack the examples table into cards, wide ones keep the table
      const stacked = await page.$eval('gpt-template-editor >>> table.examples tbody tr', (tr) => getComputedStyle(tr).display === 'block');
      expect(stacked).toBe(width === 390);
      await page.screenshot({ path: join(screens, `editor-${width}.png`) });
      if (width === 390) await editor!.screenshot({ path: join(screens, `editor-${width}-whole.png`) });
      else {
        await editor!.evaluate((e) => e.scrollIntoView());
        await page.screenshot({ path: join(screens, `editor-${width}-top.png`) });
      }
      await page.browserContext().close();
    }, 180_000);
  }

  for (const scheme of ['light', 'dark'] as const) {
    for (const width of [390, 1280]) {
      it(`reads well in ${scheme} at ${width} px`, async () => {
        const page = await open(width, scheme);
        await say(page, 'hello');
        const ratios = await page.evaluate(contrasts, ['.message.user', '.message.assistant', '.header', '.base']);
        for (const [sel, ratio] of Object.entries(ratios)) expect(ratio, `${sel} contrast`).toBeGreaterThanOrEqual(4.5);
        await page.screenshot({ path: join(screens, `demo-${scheme}-${width}.png`) });
        // template mode: the bars' empty track is a tint of the text, not a white slab in dark
        await page.select('#template', 'sentiment');
        await say(page, 'I love this');
        await shadowSelector(page, 'gpt-chat', '.template-answer .bar');
        const track = await page.$eval('gpt-chat >>> .template-answer .bar', (b) => getComputedStyle(b).backgroundColor);
        const channels = track.match(/[\d.]+/g)!.map(Number);
        if (scheme === 'dark') expect(channels.slice(0, 3).every((c) => c > 200) && (channels[3] ?? 1) > 0.5, `track ${track}`).toBe(false);
        await page.screenshot({ path: join(screens, `demo-${scheme}-${width}-template.png`) });
        await page.browserContext().close();
      }, 180_000);
    }
  }

  it('stays readable in dark mode when the host sets only the background (and pins with color-scheme)', async () => {
    const page = await open(1280, 'dark');
    await page.evaluate(() => {
      const chat = document.querySelector('gpt-chat') as HTMLElement;
      chat.style.setProperty('--gpt-chat-background', '#fffdf5');
      chat.style.setProperty('--gpt-chat-user-background', '#fde68a');
      chat.style.setProperty('--gpt-chat-assistant-background', '#f1f5f9');
    });
    await say(page, 'hello');
    const themed = await page.evaluate(contrasts, ['.message.user', '.message.assistant', '.base']);
    for (const [sel, ratio] of Object.entries(themed)) expect(ratio, `${sel} contrast on the host's light colours`).toBeGreaterThanOrEqual(4.5);
    await page.screenshot({ path: join(screens, 'demo-dark-host-background.png') });
    // color-scheme="light" pins the light palette under a dark system setting
    await page.evaluate(() => {
      const chat = document.querySelector('gpt-chat') as HTMLElement;
      chat.removeAttribute('style');
      chat.setAttribute('color-scheme', 'light');
    });
    const bg = await page.$eval('gpt-chat >>> .base', (b) => getComputedStyle(b).backgroundColor);
    expect(bg).toBe('rgb(255, 255, 255)');
    await page.evaluate(() => document.querySelector('gpt-chat')!.setAttribute('color-scheme', 'dark'));
    expect(await page.$eval('gpt-chat >>> .base', (b) => getComputedStyle(b).backgroundColor)).toBe('rgb(22, 24, 29)');
    await page.browserContext().close();
  }, 180_000);
});
