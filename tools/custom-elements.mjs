// Writes dist/custom-elements.json (the Custom Elements Manifest, schema 2.1.0) from the code of
// the elements, on every `npm run build`. Editors, Storybook and framework tooling read it; the
// JSX typings of tools/jsx-types.mjs are generated from it.
//
// A small analyzer of our own over the source text rather than @custom-elements-manifest/analyzer:
// that one needs TypeScript 5's compiler API (ours, TypeScript 7, has none), installs a second
// compiler, reads neither our comma-separated @csspart lists nor the event detail types typed
// once in events.ts. This one reads what our elements are written with, and fails the build,
// naming the file and the name, when something it expects is missing:
// - the class JSDoc (the file's first /** */ block): description, @fires, @csspart, @cssprop, @slot
//   (each tag may list several comma-separated names before ` - description`);
// - Lit's `static override properties = { name: { type: T, attribute: 'a' } }` (`state: true`
//   entries are internal and left out), each with its `declare name: Type;` and JSDoc, and its
//   default from `this.name = value;` in the constructor;
// - public getters and methods with a JSDoc comment (Lit's `override` lifecycle is left out);
// - event detail types from the `GptChatEventMap` interface of src/element/events.ts;
// - CSS custom property defaults from `var(--name, default)` in src/element/theme.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The elements: tag, class, source, and the published module that defines the tag. */
export const ELEMENTS = [
  { tag: 'gpt-chat', className: 'GptChat', source: 'src/element/gpt-chat.ts' },
  { tag: 'gpt-template-editor', className: 'GptTemplateEditor', source: 'src/element/template-editor.ts' },
];
const DEFINING_MODULE = 'dist/gpt-chat.js';
const EVENTS_SOURCE = 'src/element/events.ts';
const THEME_SOURCE = 'src/element/theme.ts';
const ALIAS_SOURCES = ['src/engine/engine.ts', 'src/runtime/model/quantize-on-load.ts'];

const fail = (where, what) => {
  throw new Error(`custom-elements: ${where}: ${what}`);
};

/** The text of a /** *\/ block without its delimiters and leading asterisks. */
const commentText = (block) =>
  block
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();

/** The JSDoc block that ends on the line before `index`, or ''. */
function docBefore(lines, index) {
  let end = index - 1;
  if (end < 0 || !lines[end].trim().endsWith('*/')) return '';
  let start = end;
  while (start >= 0 && !lines[start].trim().startsWith('/**')) start--;
  return start < 0 ? "" : commentText(lines.slice(start, end + 1).join("\n").trim());
}

/** Collapses a JSDoc text to one line of prose ({@link X} becomes X). */
const prose = (text) => text.replace(/\{@link\s+([^}]+)\}/g, '$1').replace(/\s+/g, ' ').trim();

/** The class JSDoc: description and tags, each tag's names split on commas. */
export function parseClassDoc(text) {
  const [description, ...tagTexts] = text.split(/\n(?=@)/);
  const tags = { fires: [], csspart: [], cssprop: [], slot: [] };
  for (const t of tagTexts) {
    const m = /^@(\w+)\s+([\s\S]*)$/.exec(t.trim());
    if (!m || !(m[1] in tags)) continue;
    const [names, ...rest] = m[2].split(/\s+-\s+/);
    const desc = prose(rest.join(' - '));
    for (const name of names.split(',').map((s) => s.trim()).filter(Boolean)) tags[m[1]].push({ name: name === '(default)' ? '' : name, description: desc });
  }
  return { description: prose(description.startsWith('@') ? '' : description), ...tags };
}

/** The entries of `static override properties = { ... };`. */
export function parseLitProperties(source, where) {
  const m = /static (?:override )?properties = \{([\s\S]*?)\n {2}\};/.exec(source);
  if (!m) fail(where, 'no `static override properties = { ... };` block');
  return [...m[1].matchAll(/^\s*(\w+):\s*\{([^}]*)\}/gm)].map(([, name, opts]) => ({
    name,
    type: /type:\s*(\w+)/.exec(opts)?.[1],
    attribute: /attribute:\s*'([^']+)'/.exec(opts)?.[1] ?? (/attribute:\s*false/.test(opts) ? undefined : name.toLowerCase()),
    state: /state:\s*true/.test(opts),
  }));
}

/** Details of the `declare name: Type;` of a reactive property: type, JSDoc, constructor default. */
function declaredField(source, lines, name, where) {
  const i = lines.findIndex((l) => new RegExp(`^ {2}declare ${name}\\??: `).test(l));
  if (i < 0) fail(where, `reactive property ${name} has no \`declare ${name}: Type;\``);
  const type = /: (.*);\s*$/.exec(lines[i])[1];
  const ctor = new RegExp(`this\\.${name} = (.+);`).exec(source.slice(source.indexOf('constructor()')));
  return { type, description: prose(docBefore(lines, i)), default: ctor?.[1] };
}

/** Public getters and methods documented with JSDoc, in source order. */
function publicMembers(lines) {
  const members = [];
  lines.forEach((line, i) => {
    const doc = docBefore(lines, i);
    if (!doc) return;
    const getter = /^ {2}(static )?get (\w+)\(\): (.+) \{$/.exec(line);
    if (getter) {
      members.push({ kind: 'field', name: getter[2], type: { text: getter[3] }, readonly: true, ...(getter[1] ? { static: true } : {}), description: prose(doc) });
      return;
    }
    const method = /^ {2}(static )?(async )?(\w+)\((.*)\): (.+) \{$/.exec(line);
    if (method && method[3] !== 'constructor') {
      const parameters = splitParams(method[4]).map((p) => {
        const pm = /^(\w+)(\?)?: (.+?)(?: = (.+))?$/.exec(p);
        return { name: pm[1], type: { text: pm[3] }, ...(pm[2] ? { optional: true } : {}), ...(pm[4] ? { optional: true, ...(pm[4].includes('#') ? {} : { default: pm[4] }) } : {}) };
      });
      members.push({ kind: 'method', name: method[3], ...(method[1] ? { static: true } : {}), parameters, return: { type: { text: method[5] } }, description: prose(doc) });
      return;
    }
    const field = /^ {2}(static )?(\w+): ([^=;]+?)(?: = .*)?;$/.exec(line);
    if (field) members.push({ kind: 'field', name: field[2], type: { text: field[3] }, ...(field[1] ? { static: true } : {}), description: prose(doc) });
  });
  return members;
}

/** Splits a parameter list on the commas that are not inside <>, (), {} or []. */
function splitParams(text) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if ('<({['.includes(ch)) depth++;
    if ('>)}]'.includes(ch) && !(ch === '>' && cur.endsWith('='))) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Event name -> detail type text, from `interface GptChatEventMap { 'name': CustomEvent<T>; }`. */
export function eventDetailTypes(source) {
  const body = /interface GptChatEventMap \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? fail(EVENTS_SOURCE, 'no interface GptChatEventMap');
  return new Map([...body.matchAll(/'([\w-]+)': CustomEvent<(.+)>;/g)].map(([, name, type]) => [name, type]));
}

/** CSS custom property -> its default, from the first `var(--name, default)` in the theme (the light one). */
export function cssDefaults(source) {
  const defaults = new Map();
  for (const [, name, value] of source.matchAll(/var\((--gpt-chat-[\w-]+),\s*([^;]+?)\)\s*;/g)) if (!defaults.has(name)) defaults.set(name, value.trim());
  return defaults;
}

/** `export type Name = ...;` one-line aliases of the element and engine layers, to spell attribute types out. */
function typeAliases(read) {
  const aliases = new Map();
  for (const path of ALIAS_SOURCES) for (const [, name, text] of read(path).matchAll(/^export type (\w+) = ([^;\n]+);$/gm)) aliases.set(name, text);
  return aliases;
}

/** One element's class declaration in the manifest. */
export function analyzeElement({ tag, className, source: path }, read = (p) => readFileSync(join(root, p), 'utf8')) {
  const source = read(path);
  const lines = source.split('\n');
  const first = /\/\*\*[\s\S]*?\*\//.exec(source) ?? fail(path, 'no class JSDoc');
  const doc = parseClassDoc(commentText(first[0]));
  const details = eventDetailTypes(read(EVENTS_SOURCE));
  const defaults = cssDefaults(read(THEME_SOURCE));
  const aliases = typeAliases(read);
  // each named member of a union (`QuantizeOnLoad | undefined`) spelled out
  const spelled = (type) => type.split(' | ').map((t) => (/^\w+$/.test(t) ? aliases.get(t) ?? t : t)).join(' | ');
  const attributes = [];
  const members = [];
  for (const p of parseLitProperties(source, path)) {
    if (p.state) continue;
    const f = declaredField(source, lines, p.name, path);
    f.type = spelled(f.type);
    const def = f.default !== undefined ? { default: f.default } : {};
    members.push({ kind: 'field', name: p.name, type: { text: f.type }, ...def, description: f.description, ...(p.attribute ? { attribute: p.attribute, reflects: false } : {}) });
    if (p.attribute) attributes.push({ name: p.attribute, fieldName: p.name, type: { text: f.type }, ...def, description: f.description });
  }
  const known = new Set(members.map((m) => m.name));
  for (const m of publicMembers(lines)) if (!known.has(m.name)) members.push(m);
  const events = doc.fires.map((e) => {
    const type = details.get(e.name);
    return { name: e.name, type: { text: type ? `CustomEvent<${type}>` : 'CustomEvent' }, description: e.description };
  });
  const cssProperties = doc.cssprop.flatMap((c) =>
    c.name.endsWith('*') ? [...defaults.keys()].map((name) => ({ name, description: c.description, default: defaults.get(name) })) : [{ name: c.name, description: c.description, ...(defaults.has(c.name) ? { default: defaults.get(c.name) } : {}) }],
  );
  return {
    kind: 'class',
    name: className,
    description: doc.description,
    superclass: { name: 'LitElement', package: 'lit' },
    customElement: true,
    tagName: tag,
    attributes,
    members,
    events,
    slots: doc.slot,
    cssParts: doc.csspart,
    cssProperties,
  };
}

/** The whole manifest. */
export function buildManifest(read) {
  const declarations = ELEMENTS.map((e) => analyzeElement(e, read));
  const ref = (name) => ({ name, module: DEFINING_MODULE });
  return {
    schemaVersion: '2.1.0',
    readme: 'README.md',
    modules: [
      {
        kind: 'javascript-module',
        path: DEFINING_MODULE,
        description: 'Registers the elements (the one module with side effects); the classes are also exported, side-effect free, by the package root.',
        declarations,
        exports: declarations.flatMap((d) => [
          { kind: 'js', name: d.name, declaration: ref(d.name) },
          { kind: 'custom-element-definition', name: d.tagName, declaration: ref(d.name) },
        ]),
      },
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = buildManifest();
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist/custom-elements.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const [chat, editor] = manifest.modules[0].declarations;
  const count = (d) => `${d.attributes.length} attributes, ${d.events.length} events, ${d.cssParts.length} parts, ${d.cssProperties.length} CSS properties`;
  console.log(`  dist/custom-elements.json: <gpt-chat> ${count(chat)}; <gpt-template-editor> ${count(editor)}`);
}
