// Installs npm dependencies when node_modules is missing or older than the lockfile, so that
// `npm start` and `npm test` work on a fresh clone with nothing else typed.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { execSync } from 'node:child_process';

const stamp = 'node_modules/.package-lock.json';
const stale = !existsSync(stamp) || statSync('package-lock.json').mtimeMs > statSync(stamp).mtimeMs + 1000;
// A node_modules that is a link to another checkout's is that checkout's: `npm ci` here would
// empty it under the other checkout's feet (seen with git worktrees sharing one install).
const linked = existsSync('node_modules') && lstatSync('node_modules').isSymbolicLink();
if (stale && linked) {
  console.warn('gpt-chat: node_modules is a link to another checkout and looks older than package-lock.json; not reinstalling through it. Run `npm ci` in a checkout of its own.');
} else if (stale) {
  console.log('gpt-chat: installing npm dependencies (npm ci)...');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
