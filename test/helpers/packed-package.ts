// The package as a user gets it: `npm pack` of the built repo, installed with npm into a fresh
// project in a temporary folder. Dependencies come from npm's cache (`--prefer-offline`), which
// `npm ci` of this repo filled, so the install reads the network only for what the cache lacks.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');

/** dist/ holds a build with declarations (`npm run build`). */
export const isBuilt = (): boolean => existsSync(join(repo, 'dist/gpt-chat.js')) && existsSync(join(repo, 'dist/types/index.d.ts'));

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

/** The version of a package installed in this repo, to install the same one into a project. */
export function repoVersion(name: string): string {
  return JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Packs the repo into `dir` and returns the tarball's path. */
export function pack(dir: string): string {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repo)) as { filename: string }[];
  return join(dir, info.filename);
}

/** Packages the consumer projects install beside gpt-chat (the framework tests use them). */
const CONSUMER_PACKAGES = ['@types/react', 'preact', 'vue', 'svelte', 'react', 'react-dom'];

/**
 * A project in a temporary folder with the packed package and {@link CONSUMER_PACKAGES} installed,
 * and `files` written into a folder of its own inside it (resolving packages from the project).
 * The install is shared by every test file of a run: it is kept per tarball content (a new build
 * gets a new one; older ones are removed) and takes most of the time.
 * Returns the folder of `files`.
 */
export function packedProject(files: Record<string, string>): string {
  const scratch = mkdtempSync(join(tmpdir(), 'gpt-chat-pack-'));
  const tarball = pack(scratch);
  const hash = createHash('sha256').update(readFileSync(tarball)).update(CONSUMER_PACKAGES.join()).digest('hex').slice(0, 16);
  const project = join(tmpdir(), `gpt-chat-consumer-${hash}`);
  if (!existsSync(join(project, 'installed'))) {
    // Older installs go, unless they may be in use (other checkouts run their tests too).
    for (const old of readdirSync(tmpdir()).filter((n) => n.startsWith('gpt-chat-consumer-'))) {
      if (Date.now() - statSync(join(tmpdir(), old)).mtimeMs > 3_600_000) rmSync(join(tmpdir(), old), { recursive: true, force: true });
    }
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const extra = CONSUMER_PACKAGES.map((name) => `${name}@${repoVersion(name)}`);
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...extra], project);
    writeFileSync(join(project, 'installed'), tarball);
  }
  rmSync(scratch, { recursive: true, force: true });
  const dir = mkdtempSync(join(project, 'app-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs the repo's TypeScript compiler on a project; resolves with its diagnostics ('' when none). */
export function typecheck(dir: string, tsconfig = 'tsconfig.json'): string {
  try {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, tsconfig)], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || String(err);
  }
}
