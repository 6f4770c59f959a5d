// A rollup plugin that prints every output file's raw and gzip size, and fails the build when a
// bundle is over its budget (STYLE: report bundle size on every build).
import { gzipSync } from 'node:zlib';

/** @param {Record<string, number>} budgets gzip byte budgets by output file name */
export function buildReport(budgets = {}) {
  return {
    name: 'build-report',
    generateBundle(_options, bundle) {
      for (const [name, item] of Object.entries(bundle)) {
        if (name.endsWith('.map')) continue;
        const code = item.type === 'chunk' ? item.code : item.source;
        const raw = Buffer.byteLength(code);
        const gz = gzipSync(code).length;
        const budget = budgets[name];
        const over = budget !== undefined && gz > budget;
        console.log(`  ${name.padEnd(28)} ${(raw / 1024).toFixed(1).padStart(8)} kB  ${(gz / 1024).toFixed(1).padStart(7)} kB gzip${budget ? `  (budget ${(budget / 1024).toFixed(0)} kB)` : ''}${over ? '  OVER BUDGET' : ''}`);
        if (over) this.error(`${name} is ${gz} bytes gzip, over its budget of ${budget}.`);
      }
    },
  };
}
