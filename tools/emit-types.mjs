// Emits the package's declaration files into dist/types/ (run by `npm run build`, after rollup):
// tsc writes one .d.ts per module of src/, then this script makes them what a consumer's compiler
// can read with its own settings (strict, skipLibCheck off, any moduleResolution that reads
// `exports`):
// - relative specifiers end in .js, not .ts (tsc keeps `.ts` in declarations even with
//   rewriteRelativeImportExtensions, and a consumer without allowImportingTsExtensions refuses them);
// - only the modules reachable from the package's entries are kept (the rest are internals);
// - a reachable declaration that imports a .wgsl or .wat module, or a package the consumer does
//   not get (anything but lit), fails the build with the file and the import.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/types');

/** The declaration entries: one per `types` condition of package.json's exports. */
export const TYPE_ENTRIES = ['index.d.ts', 'gpt-chat.d.ts', 'runtime/index.d.ts', 'node.d.ts'];

/** Packages a declaration may import: those the consumer installs with gpt-chat. */
const ALLOWED_PACKAGES = ['lit'];

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\2/g;

/** The declaration source with relative `.ts` specifiers turned into `.js`. */
export function rewriteSpecifiers(source) {
  return source.replace(SPECIFIER, (whole, lead, quote, spec) =>
    spec.startsWith('.') && spec.endsWith('.ts') ? `${lead}${quote}${spec.slice(0, -3)}.js${quote}` : whole,
  );
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function pruneEmptyDirs(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) pruneEmptyDirs(path);
  }
  if (!readdirSync(dir).length) rmSync(dir, { recursive: true });
}

function emit() {
  rmSync(out, { recursive: true, force: true });
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  const problems = [];
  const keep = new Set();
  const visit = (file) => {
    if (keep.has(file)) return;
    keep.add(file);
    const source = rewriteSpecifiers(readFileSync(file, 'utf8'));
    writeFileSync(file, source);
    for (const [, , , spec] of source.matchAll(SPECIFIER)) {
      const where = relative(root, file);
      if (/\.(wgsl|wat)$/.test(spec)) problems.push(`${where} imports ${spec}: a kernel module type would leak into the consumer's view.`);
      else if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.d.ts'));
        if (existsSync(target)) visit(target);
        else problems.push(`${where} imports ${spec}, which has no declaration in dist/types.`);
      } else if (!ALLOWED_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
        problems.push(`${where} imports the package ${spec}, which consumers do not get; keep it out of the public types or add it to dependencies and ALLOWED_PACKAGES.`);
      }
    }
  };
  for (const entry of TYPE_ENTRIES) visit(join(out, entry));
  for (const file of walk(out)) if (!keep.has(file)) rmSync(file);
  pruneEmptyDirs(out);
  if (problems.length) throw new Error(`emit-types:\n  ${problems.join('\n  ')}`);
  console.log(`  dist/types: ${keep.size} declaration files for ${TYPE_ENTRIES.join(', ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) emit();
