// The published types as a TypeScript user meets them: the packed tarball installed into a fresh
// project whose tsconfig is strict with skipLibCheck off (the default), and code that uses the
// element, its events, the runtime and the templates API. It must compile with no error, under
// both `moduleResolution: bundler` and `nodenext`; lines marked @ts-expect-error prove the types
// are real (a wrong property or detail type is an error, not `any`). Needs `npm run build`.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuilt, packedProject, typecheck } from '../helpers/packed-package.ts';

const tsconfig = (moduleResolution: string, module: string, include = ['app.ts'], extra: object = {}) =>
  JSON.stringify({
    compilerOptions: { target: 'ES2022', module, moduleResolution, lib: ['ES2023', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, types: [], ...extra },
    include,
  });

const APP = `
import { GptChat, GptError, BUILTIN_TEMPLATES, builtinTemplate, classify, validateTemplate, renderPrompt, type FewShotTemplate, type ScoringModel, type TemplateScores } from 'gpt-chat';
import 'gpt-chat/gpt-chat.js';
import { loadLanguageModel, type GenerateOptions, type LanguageModel } from 'gpt-chat/runtime';

// The element: found by tag name with its own type, properties typed.
const chat: GptChat | null = document.querySelector('gpt-chat');
const made: GptChat = document.createElement('gpt-chat');
made.model = 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/';
made.engine = 'cpu';
made.temperature = 0.2;
made.systemPrompt = 'Be brief.';
// @ts-expect-error: temperature is a number
made.temperature = 'hot';
// @ts-expect-error: not an engine
made.engine = 'tpu';
GptChat.defaultModel = '/models/gpt-chat-demo/';
const sent: boolean = made.send('Hello');
const status: string = made.status;

// Events: detail types come from the element's event map, on the element and on document.
made.addEventListener('gpt-chat-ready', (e) => {
  const backend: string = e.detail.backend;
  const fromCache: boolean = e.detail.fromCache;
  console.log(backend, fromCache);
});
made.addEventListener('gpt-chat-token', (e) => console.log(e.detail.text.length, e.detail.id + 1));
made.addEventListener('gpt-chat-message', (e) => console.log(e.detail.content, e.detail.finishReason));
document.addEventListener('gpt-chat-error', (e) => {
  const code: string = e.detail.code;
  // @ts-expect-error: detail has no such field
  console.log(code, e.detail.stack);
});
made.addEventListener('gpt-chat-load-progress', (e) => console.log(e.detail.loaded / e.detail.total));

// The template editor.
const editor = document.createElement('gpt-template-editor');
editor.for = 'chat';

// Templates: built-ins, validation, rendering, scoring with the element or a runtime model.
const sentiment: FewShotTemplate = builtinTemplate('sentiment')!;
const checked: FewShotTemplate = validateTemplate(JSON.parse('{}'));
const prompt: string = renderPrompt(sentiment, { text: 'great' });
const ids: string[] = BUILTIN_TEMPLATES.map((t) => t.id);
async function scores(): Promise<TemplateScores> {
  return chat ? chat.classify('sentiment', { text: 'I loved it' }) : made.choose(sentiment, { text: 'x' });
}

// The runtime.
async function run(): Promise<void> {
  const lm: LanguageModel = await loadLanguageModel('https://example.com/model/', { backend: 'auto', contextLength: 512 });
  const options: GenerateOptions = { maxTokens: 16, temperature: 0 };
  const stream = lm.generate([{ role: 'user', content: 'Hi' }], options);
  for await (const t of stream) console.log(t.id, t.text);
  const scoring: ScoringModel = lm;
  const r = await classify(scoring, sentiment, { text: 'fine' });
  console.log(r.probabilities, lm.backendKind);
  lm.dispose();
}

try { void run(); } catch (err) { if (err instanceof GptError) console.log(err.code); }
console.log(chat, sent, status, checked, prompt, ids, scores);
`;

// The framework typings (gpt-chat/jsx/*), each against the framework's own published types.
const REACT = `
import type {} from 'gpt-chat/jsx/react';
import { useEffect, useRef } from 'react';
import type { GptChat } from 'gpt-chat';

export function Chat() {
  const ref = useRef<GptChat>(null);
  useEffect(() => {
    const el = ref.current;
    const onReady = (e: HTMLElementEventMap['gpt-chat-ready']) => console.log(e.detail.backend);
    el?.addEventListener('gpt-chat-ready', onReady);
    return () => el?.removeEventListener('gpt-chat-ready', onReady);
  }, []);
  return (
    <>
      <gpt-chat ref={ref} id="chat" model="/models/gpt-chat-demo/" engine="cpu" system-prompt="Be brief." max-tokens={64} temperature={0.2} autoload />
      {/* @ts-expect-error: not an engine */}
      <gpt-chat engine="tpu" />
      {/* @ts-expect-error: temperature is a number */}
      <gpt-chat temperature="hot" />
      <gpt-template-editor for="chat" />
    </>
  );
}
`;
const PREACT = `
import type {} from 'gpt-chat/jsx/preact';
export const chat = <gpt-chat model="/m/" engine="webgpu" top-p={0.8} />;
// @ts-expect-error: not an engine
export const bad = <gpt-chat engine="tpu" />;
`;
const VUE = `
import type {} from 'gpt-chat/jsx/vue';
import type { GlobalComponents } from 'vue';
type ChatProps = InstanceType<GlobalComponents['gpt-chat']>['$props'];
export const ok: ChatProps = { model: '/m/', engine: 'cpu', 'max-tokens': 64 };
// @ts-expect-error: not an engine
export const bad: ChatProps = { engine: 'tpu' };
`;
const SVELTE = `
import type {} from 'gpt-chat/jsx/svelte';
import type { SvelteHTMLElements } from 'svelte/elements';
export const ok: SvelteHTMLElements['gpt-chat'] = { model: '/m/', engine: 'cpu', 'max-tokens': 64 };
// @ts-expect-error: not an engine
export const bad: SvelteHTMLElements['gpt-chat'] = { engine: 'tpu' };
export const editor: SvelteHTMLElements['gpt-template-editor'] = { for: 'chat' };
`;

describe.skipIf(!isBuilt())('the packed package in a strict TypeScript project (skipLibCheck off)', () => {
  let dir: string;

  beforeAll(() => {
    dir = packedProject({
      'app.ts': APP,
      'react.tsx': REACT,
      'preact.tsx': PREACT,
      'vue.ts': VUE,
      'svelte.ts': SVELTE,
      // One program for the plain app, React, Vue and Svelte (they coexist); Preact's JSX is its own.
      'tsconfig.json': tsconfig('bundler', 'ESNext', ['app.ts', 'react.tsx', 'vue.ts', 'svelte.ts'], { jsx: 'react-jsx' }),
      'tsconfig.nodenext.json': tsconfig('nodenext', 'NodeNext'),
      'tsconfig.preact.json': tsconfig('bundler', 'ESNext', ['preact.tsx'], { jsx: 'react-jsx', jsxImportSource: 'preact' }),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('type-checks the element, its events, the runtime, templates, and React, Vue and Svelte templates (gpt-chat/jsx/*)', () => {
    expect(typecheck(dir)).toBe('');
  });

  it('type-checks the same code under moduleResolution nodenext', () => {
    expect(typecheck(dir, 'tsconfig.nodenext.json')).toBe('');
  });

  it('types the elements in Preact templates (gpt-chat/jsx/preact)', () => {
    expect(typecheck(dir, 'tsconfig.preact.json')).toBe('');
  });
});
