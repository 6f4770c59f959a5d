// What quantizing on load costs in quality, on the bundled demo model (a trained 1.9M-parameter
// Llama, F16 on disk): perplexity of its held-out chat replies (eval/chat.json: never in training,
// teacher-forced after the chat prompt) and the accuracy of the built-in templates on its held-out
// few-shot items (eval/*.json), for F16, Q8_0 and Q4_0, on the CPU backend (WebAssembly SIMD:
// 8-bit activations too, the cheapest and least exact path). Also the load time of each.
//   npm run build && node bench/quant-quality.mjs
// or from another script: `import { runQuantQuality } from './quant-quality.mjs'`.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(root, 'models/gpt-chat-demo');

/**
 * Runs the measurement and prints a table, one row per type.
 * @param {{ types?: (undefined | 'q8_0' | 'q4_0')[], log?: (line: string) => void }} [options]
 */
export async function runQuantQuality({ types = [undefined, 'q8_0', 'q4_0'], log = console.log } = {}) {
  const rt = await import(pathToFileURL(join(root, 'dist/node/index.js')).href);
  const chat = JSON.parse(readFileSync(join(DIR, 'eval/chat.json'), 'utf8'));
  const tasks = readdirSync(join(DIR, 'eval'))
    .filter((f) => f.endsWith('.json') && f !== 'chat.json')
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(DIR, 'eval', f), 'utf8')) }));
  const rows = [];
  for (const quantize of types) {
    const t0 = performance.now();
    const lm = await rt.loadLanguageModel(rt.nodeModelFiles(DIR), { backend: 'cpu', quantize });
    const loadMs = performance.now() - t0;
    try {
      // perplexity: exp(-mean log p) over every reply token, after system + user in the chat template
      let logp = 0;
      let tokens = 0;
      for (const item of chat.items) {
        const turns = [{ role: 'system', content: chat.system }, { role: 'user', content: item.user }];
        const prefix = lm.encode(turns);
        const whole = lm.encode([...turns, { role: 'assistant', content: item.reply }]);
        if (whole.slice(0, prefix.length).join() !== prefix.join()) throw new Error('quant-quality: the chat template does not extend the prompt with the reply.');
        const reply = whole.slice(prefix.length);
        const s = await lm.scoreContinuation(prefix, reply);
        logp += s.total;
        tokens += reply.length;
      }
      const accuracy = {};
      for (const task of tasks) {
        let correct = 0;
        for (const item of task.items) {
          const t = templateFor(rt, task.task, item);
          const r = t.task === 'classification' ? await rt.classify(lm, t, item.query) : await rt.choose(lm, t, item.query);
          correct += Number(r.answer === item.gold);
        }
        accuracy[task.name] = correct / task.items.length;
      }
      rows.push({ type: quantize ?? 'f16', loadMs, perplexity: Math.exp(-logp / tokens), tokens, accuracy });
    } finally {
      lm.dispose();
    }
  }
  log(table(rows, tasks.map((t) => t.name)));
  return rows;
}

// the built-in template of the item's task with the item's label words and examples (as
// test/templates/templates-demo.test.ts builds it)
function templateFor(rt, task, item) {
  const t = rt.builtinTemplate(task);
  return rt.validateTemplate({
    ...t,
    labels: t.task === 'classification' ? item.instructionLabels.map((l) => ({ name: l, text: l })) : [],
    examples: item.examples.map((e) => ({ fields: e.fields, answer: e.label })),
  });
}

function table(rows, taskNames) {
  const head = ['type', 'load ms', `perplexity (${rows[0]?.tokens ?? '?'} reply tokens)`, ...taskNames];
  const body = rows.map((r) => [r.type, r.loadMs.toFixed(0), r.perplexity.toFixed(3), ...taskNames.map((n) => `${(100 * r.accuracy[n]).toFixed(1)}%`)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    'Quantize on load: the demo model on the CPU, held-out replies and few-shot items',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runQuantQuality();
}
