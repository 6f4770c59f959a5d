// The package as a user gets it: `npm pack` of the built repo, installed with npm into a fresh
// project in a temporary folder. Dependencies come from npm's cache (`--prefer-offline`), which
// `npm ci` of this repo filled, so the install reads the network only for what the cache lacks.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * A new project in a temporary folder with `files` written into it and the packed package plus
 * `extra` packages (`name@version`) installed. Returns the project's folder.
 */
export function packedProject(files: Record<string, string>, extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-chat-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const tarball = pack(dir);
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...extra], dir);
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
