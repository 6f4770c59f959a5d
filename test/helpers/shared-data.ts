import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The shared real-data folder (never copied into the repo): `$GPT_CHAT_SHARED`, else `../shared`
 * beside the checkout (the main checkout), `shared/` inside it, or `../../shared` (a worktree under
 * a folder of worktrees). Null when none exists: tests that need it skip with a message.
 */
export function sharedDataDir(): string | null {
  const candidates = [process.env['GPT_CHAT_SHARED'], join(ROOT, '../shared'), join(ROOT, 'shared'), join(ROOT, '../../shared')];
  return candidates.find((p): p is string => p !== undefined && existsSync(p)) ?? null;
}
