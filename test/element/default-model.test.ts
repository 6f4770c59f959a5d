// The error of a bundled model that is not served where the element looks for it.
import { describe, expect, it } from 'vitest';
import { explainBundledModelError } from '../../src/element/default-model.ts';
import { GptError } from '../../src/errors.ts';

const url = 'http://localhost:5173/models/gpt-chat-demo/';

describe('explainBundledModelError', () => {
  it('turns a 404 or an HTML page for the bundled model into what to do, naming the URL', () => {
    for (const e of [
      new GptError('file-missing', `${url}: HTTP 404 for config.json.`),
      new GptError('network', `${url}: the server answered config.json with an HTML page (Content-Type text/html) instead of the file.`),
      new GptError('network', `${url}: config.json is not a model file: it starts like an HTML/XML document.`),
    ]) {
      const out = explainBundledModelError(e, url);
      expect(out.code).toBe('file-missing');
      expect(out.message).toContain(`bundled demo model from ${url}`);
      expect(out.message).toContain('public/models/gpt-chat-demo/');
      expect(out.message).toContain('model attribute');
    }
  });

  it("points Vite's dev server at optimizeDeps.exclude, where copying the folder would not help", () => {
    const dev = 'http://localhost:5173/node_modules/.vite/models/gpt-chat-demo/';
    const out = explainBundledModelError(new GptError('network', `${dev}: the server answered config.json with an HTML page`), dev);
    expect(out.message).toContain("optimizeDeps: { exclude: ['gpt-chat'] }");
    expect(out.message).not.toContain('public/models');
  });

  it('leaves other failures as they are', () => {
    for (const e of [new GptError('network', `Fetching ${url}config.json failed: offline.`), new GptError('integrity', 'chunk 3 does not match')]) {
      expect(explainBundledModelError(e, url)).toBe(e);
    }
  });
});
