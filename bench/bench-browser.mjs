// What the browser benches share: serving a folder on a secure origin to a headless Chromium, and
// printing a table.
import puppeteer from 'puppeteer-core';
import { chromiumPath } from '../tools/check-chromium.mjs';
import { startDemoServer } from '../tools/serve-demo.mjs';

/**
 * Serves `dir` (laid out as tools/serve-demo.mjs mounts it) and launches headless Chromium.
 * `origin` is on localhost: a secure context (IndexedDB, crypto.subtle); no COOP/COEP, so wllama
 * runs single-threaded. Close both with `close()`.
 */
export async function openBenchBrowser(dir) {
  const { server, url } = await startDemoServer({ port: 0, host: '127.0.0.1', root: dir });
  const origin = url.replace('127.0.0.1', 'localhost');
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    protocolTimeout: 900_000,
  });
  return {
    origin,
    browser,
    close: async () => {
      await browser.close();
      server.close();
    },
  };
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
