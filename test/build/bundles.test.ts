// What `npm run build` put in dist/: web-llm (several MB) must stay out of the bundles every page
// loads. The worker imports our adapter, gpt-chat-webllm.js, by URL for engine="webllm", and the
// adapter imports web-llm itself from web-llm.js beside it (a copy of web-llm's own build).
// Node's WebGPU start-up (Dawn, Vulkan driver probing: runtime/webgpu/node-gpu.ts) must stay out
// of every browser bundle and live only in dist/node.
// Reads dist/, so it needs a build first (npm test builds before it runs vitest).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = (name: string) => new URL(`../../dist/${name}`, import.meta.url);
/** Identifiers that only web-llm's code contains. */
const WEBLLM_MARKERS = ['MLCEngine', 'prebuiltAppConfig', 'mlc-ai'];
/** Strings that only node-gpu.ts (and the Node file reader) contain. */
const NODE_MARKERS = ['VK_ICD_FILENAMES', 'vk_swiftshader_icd', 'node:fs', 'process.env'];

describe('dist bundles', () => {
  it('built (run `npm run build` first)', () => {
    for (const f of ['gpt-chat.js', 'gpt-chat-worker.js', 'index.js', 'runtime.js', 'gpt-chat-webllm.js']) expect(existsSync(dist(f)), `dist/${f}`).toBe(true);
  });

  for (const name of ['gpt-chat.js', 'gpt-chat-worker.js', 'index.js']) {
    it(`${name} holds no web-llm code`, () => {
      const code = readFileSync(dist(name), 'utf8');
      for (const marker of WEBLLM_MARKERS) expect(code.includes(marker), `${marker} in dist/${name}`).toBe(false);
    });
  }

  for (const name of ['gpt-chat.js', 'gpt-chat-worker.js', 'index.js', 'runtime.js']) {
    it(`${name} holds no Node code (Dawn start-up, file reads)`, () => {
      const code = readFileSync(dist(name), 'utf8');
      for (const marker of NODE_MARKERS) expect(code.includes(marker), `${marker} in dist/${name}`).toBe(false);
    });
  }

  it('the Node bundle holds the Dawn start-up', () => {
    const files = readdirSync(dist('node/')).filter((f) => f.endsWith('.js'));
    expect(files.some((f) => readFileSync(dist(`node/${f}`), 'utf8').includes('VK_ICD_FILENAMES'))).toBe(true);
  });

  it('gpt-chat-webllm.js holds our loader, imports web-llm from web-llm.js, and the worker imports it by URL', () => {
    const adapter = readFileSync(dist('gpt-chat-webllm.js'), 'utf8');
    expect(adapter).toMatch(/export\s*\{[^}]*loadWebLlmModel/);
    expect(adapter).toContain('import("./web-llm.js")');
    expect(adapter).not.toContain('prebuiltAppConfig=');
    expect(Buffer.byteLength(adapter)).toBeLessThan(50_000);
    expect(readFileSync(dist('web-llm.js'), 'utf8')).toContain('MLCEngine');
    expect(readFileSync(dist('gpt-chat-worker.js'), 'utf8')).toContain('gpt-chat-webllm.js');
  });
});
