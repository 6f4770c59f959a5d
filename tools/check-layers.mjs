// The layering of ARCHITECTURE.md as data, checked on every `npm test`: an import that climbs
// the layers (the runtime reaching for the element, a parser reaching for the runtime) fails the
// run with the file, the import and what that layer may use.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What each part of src/ may import: other parts (folders, or top-level files) and npm packages.
 * `node:` modules are packages too. The entries (index.ts, gpt-chat.ts, node.ts) tie the parts
 * together and may import any of them.
 */
export const LAYERS = {
  'errors.ts': { parts: [], packages: [] },
  formats: { parts: ['errors.ts'], packages: [] },
  runtime: { parts: ['formats', 'errors.ts'], packages: ['@huggingface/jinja', '@huggingface/tokenizers', 'node:'] },
  cache: { parts: ['formats', 'errors.ts'], packages: ['idb-keyval', '@noble/hashes', 'hash-wasm'] },
  templates: { parts: ['errors.ts'], packages: ['idb-keyval'] },
  engine: { parts: ['runtime', 'cache', 'templates', 'formats', 'errors.ts'], packages: [] },
  webllm: { parts: ['engine', 'errors.ts'], packages: ['@mlc-ai/web-llm'] },
  element: { parts: ['engine', 'templates', 'errors.ts'], packages: ['lit', 'idb-keyval'] },
  cli: { parts: ['runtime', 'formats', 'errors.ts'], packages: ['node:'] },
  'index.ts': { parts: '*', packages: [] },
  'gpt-chat.ts': { parts: '*', packages: [] },
  'node.ts': { parts: '*', packages: [] },
};

// Static imports and re-exports (`import ... from`, `export ... from`, `import '...'`) and dynamic
// imports of a string literal. Type-only imports count: a type that climbs is a design that climbs.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The specifiers a module imports, comments stripped. */
export function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The part of src/ a path (relative to src/) belongs to: its first folder, or the file itself. */
const partOf = (path) => path.split('/')[0];

/**
 * Checks a set of modules against LAYERS. `files` maps a path relative to src/ to its source.
 * @returns {string[]} one line per violation
 */
export function checkLayers(files) {
  const problems = [];
  for (const [path, source] of Object.entries(files)) {
    const part = partOf(path);
    const rule = LAYERS[part];
    if (!rule) {
      problems.push(`src/${path}: src/${part} is not in the layering of tools/check-layers.mjs; add it there and to ARCHITECTURE.md.`);
      continue;
    }
    for (const spec of importsOf(source)) {
      if (spec.startsWith('.')) {
        const target = relative('/src', resolve('/src', dirname(path), spec)).replaceAll('\\', '/');
        if (target.startsWith('..')) {
          problems.push(`src/${path} imports ${spec}: nothing in src/ may import from outside it (test/, tools/).`);
          continue;
        }
        const to = partOf(target);
        if (to === part || rule.parts === '*' || rule.parts.includes(to)) continue;
        problems.push(`src/${path} imports ${spec}: ${part}/ may import only ${rule.parts.join(', ') || 'nothing in src/'}, not ${to}.`);
      } else {
        const ok = rule.packages.some((p) => (p.endsWith(':') ? spec.startsWith(p) : spec === p || spec.startsWith(p + '/')));
        if (ok || rule.parts === '*') continue;
        problems.push(`src/${path} imports the package ${spec}: ${part}/ may import only ${rule.packages.join(', ') || 'no packages'}.`);
      }
    }
  }
  return problems;
}

/** Every .ts module under a folder, keyed by its path relative to that folder. */
export function readSources(dir) {
  const files = {};
  const walk = (sub) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files[rel] = readFileSync(join(dir, rel), 'utf8');
    }
  };
  walk('');
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const files = readSources(src);
  const problems = checkLayers(files);
  if (problems.length > 0) {
    console.error(`gpt-chat: ${problems.length} import(s) climb the layers of ARCHITECTURE.md:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`gpt-chat: layering ok (${Object.keys(files).length} modules).`);
}
