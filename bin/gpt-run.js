#!/usr/bin/env node
// Runs a model from a Hugging Face folder on the command line. See `gpt-run --help`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/node/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('gpt-run: dist/node/cli.js is missing. HINT: run `npm run build` in the gpt-chat folder first.');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
