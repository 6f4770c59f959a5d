// dist/custom-elements.json (tools/custom-elements.mjs, run by `npm run build`) against the two
// places that must agree with it: README.md's documentation of <gpt-chat> (attributes, events,
// methods, CSS properties and parts, compared both ways) and the `part="..."` attributes the
// elements actually render. Needs `npm run build`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from '../helpers/packed-package.ts';

interface Declaration {
  tagName: string;
  attributes: { name: string; fieldName: string }[];
  members: { kind: string; name: string; static?: boolean }[];
  events: { name: string; type: { text: string } }[];
  cssParts: { name: string }[];
  cssProperties: { name: string; default?: string }[];
}

const manifestPath = join(repo, 'dist/custom-elements.json');
const built = existsSync(manifestPath);
const read = (path: string) => readFileSync(join(repo, path), 'utf8');
const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

/** The README section from `## The element` to the next `## `. */
const elementSection = () => {
  const readme = read('README.md');
  const start = readme.indexOf('## The element');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
};

/** First-column names of the markdown table whose header starts with `header`. */
function tableNames(section: string, header: string): string[] {
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header}`));
  expect(start, `a README table starting "| ${header}"`).toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    names.push(...[...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  }
  return names;
}

/** The backticked names of the paragraph that starts with `label`. */
function paragraphNames(section: string, label: string): string[] {
  const start = section.indexOf(`\n${label}`);
  expect(start, `a README paragraph starting "${label}"`).toBeGreaterThanOrEqual(0);
  const paragraph = section.slice(start + 1, section.indexOf('\n\n', start + 1));
  return [...paragraph.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe.skipIf(!built)('custom-elements.json', () => {
  const manifest = built ? JSON.parse(readFileSync(manifestPath, 'utf8')) : undefined;
  const declarations: Declaration[] = manifest?.modules.flatMap((m: { declarations: Declaration[] }) => m.declarations) ?? [];
  const chat = declarations.find((d) => d.tagName === 'gpt-chat')!;
  const editor = declarations.find((d) => d.tagName === 'gpt-template-editor')!;

  it('declares both elements, and package.json points at it', () => {
    expect(sorted(declarations.map((d) => d.tagName))).toEqual(['gpt-chat', 'gpt-template-editor']);
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.customElements).toBe('./dist/custom-elements.json');
    expect(pkg.files).toContain('dist');
  });

  it('lists exactly the attributes and properties of the README table', () => {
    const documented = tableNames(elementSection(), 'attribute / property');
    const attributes = chat.attributes.map((a) => a.name);
    const fields = chat.attributes.map((a) => a.fieldName);
    expect(sorted(documented.filter((n) => attributes.includes(n)))).toEqual(sorted(attributes));
    // every name in the table is an attribute or its property
    expect(documented.filter((n) => !attributes.includes(n) && !fields.includes(n))).toEqual([]);
  });

  it('lists exactly the events of the README table, each with its detail type', () => {
    expect(sorted(chat.events.map((e) => e.name))).toEqual(sorted(tableNames(elementSection(), 'event')));
    for (const e of chat.events) expect(e.type.text, e.name).toMatch(/^CustomEvent<.+>$/);
  });

  it('lists exactly the methods and read-only properties of the README', () => {
    const section = elementSection();
    const methods = paragraphNames(section, 'Methods:').map((n) => n.replace(/\(.*$/, ''));
    const readOnly = paragraphNames(section, 'Read-only:').filter((n) => /^\w+$/.test(n));
    const manifestMethods = chat.members.filter((m) => m.kind === 'method' && !m.static).map((m) => m.name);
    expect(sorted(methods)).toEqual(sorted(manifestMethods));
    const getters = chat.members.filter((m) => m.kind === 'field' && (m as { readonly?: boolean }).readonly && !m.static).map((m) => m.name);
    expect(sorted(readOnly)).toEqual(sorted(getters));
  });

  it('lists exactly the CSS custom properties and parts of the README, with defaults', () => {
    const section = elementSection();
    const props = paragraphNames(section, 'Theming').filter((n) => n.startsWith('--'));
    const parts = paragraphNames(section, 'Parts').filter((n) => /^[\w-]+$/.test(n));
    expect(sorted(chat.cssProperties.map((c) => c.name))).toEqual(sorted(props));
    expect(sorted(chat.cssParts.map((p) => p.name))).toEqual(sorted(parts));
    for (const c of chat.cssProperties) expect(c.default, c.name).toBeTruthy();
    // the editor shares the chat's theme
    expect(sorted(editor.cssProperties.map((c) => c.name))).toEqual(sorted(props));
  });

  it('lists exactly the parts each element renders', () => {
    const element = readdirSync(join(repo, 'src/element')).map((f) => `src/element/${f}`);
    const chatFiles = element.filter((f) => /\/(gpt-chat[\w-]*|chat-[\w-]+|markdown|template-bars)\.ts$/.test(f));
    const editorFiles = element.filter((f) => /\/(template-editor[\w-]*|template-bars)\.ts$/.test(f));
    const rendered = (files: string[]) => sorted(files.flatMap((f) => [...read(f).matchAll(/\bpart="([^"$]+)"/g)].flatMap((m) => m[1]!.split(/\s+/))));
    expect(sorted(chat.cssParts.map((p) => p.name))).toEqual(rendered(chatFiles));
    expect(sorted(editor.cssParts.map((p) => p.name))).toEqual(rendered(editorFiles));
  });
});
