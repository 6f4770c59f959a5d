// Server-rendered pages import the element's modules on the server too (Next.js, Astro, SvelteKit
// render the page in Node before the browser registers the element). Under Node, the packed
// package's entries must import without touching `window`, `document` or `customElements` at
// module scope: `gpt-chat` is side-effect free, and `gpt-chat/gpt-chat.js` resolves (through the
// `node` condition of package.json's exports) to the same classes without registering them.
// (Lit's Node build installs a minimal `customElements` of its own; nothing of ours is defined in it.)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuilt, packedProject } from '../helpers/packed-package.ts';

const SERVER = `
const root = await import('gpt-chat');
const element = await import('gpt-chat/gpt-chat.js');
const templates = root.builtinTemplate('sentiment');
console.log(JSON.stringify({
  classes: [typeof root.GptChat, typeof element.GptChat, typeof element.GptTemplateEditor],
  sameClass: root.GptChat === element.GptChat,
  template: templates.id,
  dom: ['window', 'document'].filter((name) => name in globalThis),
  registered: globalThis.customElements?.get('gpt-chat') !== undefined,
}));
`;

describe.skipIf(!isBuilt())('the packed package imported by a server (Node)', () => {
  let dir: string;
  beforeAll(() => {
    dir = packedProject({ 'server.mjs': SERVER });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports gpt-chat and gpt-chat/gpt-chat.js without a DOM and without defining one', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['server.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ classes: ['function', 'function', 'function'], sameClass: true, template: 'sentiment', dom: [], registered: false });
  });
});
