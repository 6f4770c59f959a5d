// What quantizing costs in quality, on the bundled demo model (a trained 1.9M-parameter Llama, F16
// on disk), on the CPU backend (WebAssembly SIMD: 8-bit activations for quantized matrices, the
// cheapest and least exact path): perplexity of held-out text (the chat replies of eval/chat.json,
// teacher-forced after the chat prompt; and the first items of each few-shot eval set, prompt and
// gold answer, all never in training) and the accuracy of the built-in templates on every held-out
// few-shot item (eval/*.json). Rows: F16, quantized on load to Q8_0 and Q4_0, and the GGUF files of
// the fixtures (test/fixtures/generated/gguf/gpt-chat-demo-<type>.gguf, our quantizer, typed as
// llama-quantize would: the tied head in Q8_0; Q4_K only where a row holds 256-blocks, ffn_down,
// the rest Q4_0). Also the load time of each.
//   npm run build && npm run fixtures && node bench/quant-quality.mjs
// or from another script: `import { runQuantQuality } from './quant-quality.mjs'`.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(root, 'models/gpt-chat-demo');
const GGUF = (type) => join(root, `test/fixtures/generated/gguf/gpt-chat-demo-${type}.gguf`);
// few-shot items per eval set whose text counts in the second perplexity
const FEWSHOT_ITEMS = 10;

/** What is measured, one row each: the folder as stored or quantized on load, and the GGUF files. */
const SOURCES = [
  { type: 'f16', path: DIR },
  { type: 'q8_0 (on load)', path: DIR, quantize: 'q8_0' },
  { type: 'q4_0 (on load)', path: DIR, quantize: 'q4_0' },
  { type: 'GGUF Q8_0', path: GGUF('q8_0') },
  { type: 'GGUF Q4_0', path: GGUF('q4_0') },
  { type: 'GGUF Q4_K', path: GGUF('q4_k') },
];

/**
 * Runs the measurement and prints a table, one row per source.
 * @param {{ sources?: { type: string, path: string, quantize?: 'q8_0' | 'q4_0' }[], log?: (line: string) => void }} [options]
 */
export async function runQuantQuality({ sources = SOURCES, log = console.log } = {}) {
  const rt = await import(pathToFileURL(join(root, 'dist/node/index.js')).href);
  const chat = JSON.parse(readFileSync(join(DIR, 'eval/chat.json'), 'utf8'));
  const tasks = readdirSync(join(DIR, 'eval'))
    .filter((f) => f.endsWith('.json') && f !== 'chat.json')
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(DIR, 'eval', f), 'utf8')) }));
  const rows = [];
  for (const source of sources) {
    if (!existsSync(source.path)) {
      log(`  ${source.type}: ${source.path} is missing, skipped (npm run fixtures writes it)`);
      continue;
    }
    const t0 = performance.now();
    const lm = await rt.loadLanguageModel(rt.nodeModelFiles(source.path), { backend: 'cpu', quantize: source.quantize });
    const loadMs = performance.now() - t0;
    try {
      // perplexity: exp(-mean log p) over every reply token, after system + user in the chat template
      const replies = { logp: 0, tokens: 0 };
      for (const item of chat.items) {
        const turns = [{ role: 'system', content: chat.system }, { role: 'user', content: item.user }];
        const prefix = lm.encode(turns);
        const whole = lm.encode([...turns, { role: 'assistant', content: item.reply }]);
        if (whole.slice(0, prefix.length).join() !== prefix.join()) throw new Error('quant-quality: the chat template does not extend the prompt with the reply.');
        const reply = whole.slice(prefix.length);
        replies.logp += (await lm.scoreContinuation(prefix, reply)).total;
        replies.tokens += reply.length;
      }
      // perplexity over whole few-shot texts (every token after the first), sets with seen label words
      const fewshot = { logp: 0, tokens: 0 };
      for (const task of tasks.filter((t) => !t.name.includes('unseen'))) {
        for (const item of task.items.slice(0, FEWSHOT_ITEMS)) {
          const ids = lm.encode(`${item.prompt} ${item.gold}`);
          fewshot.logp += (await lm.scoreContinuation(ids.slice(0, 1), ids.slice(1))).total;
          fewshot.tokens += ids.length - 1;
        }
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
      const ppl = (s) => ({ value: Math.exp(-s.logp / s.tokens), tokens: s.tokens });
      rows.push({ type: source.type, loadMs, replies: ppl(replies), fewshot: ppl(fewshot), accuracy });
      log(`  ${source.type}: reply perplexity ${rows.at(-1).replies.value.toFixed(3)}, few-shot text perplexity ${rows.at(-1).fewshot.value.toFixed(4)}`);
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
  const base = rows[0];
  const vs = (r, k) => (r === base ? '' : ` (${(100 * (r[k].value / base[k].value - 1)).toFixed(1)}%)`);
  const head = ['type', 'load ms', `reply perplexity (${base?.replies.tokens ?? '?'} tokens)`, `few-shot text perplexity (${base?.fewshot.tokens ?? '?'} tokens)`, ...taskNames];
  const body = rows.map((r) => [
    r.type, r.loadMs.toFixed(0), r.replies.value.toFixed(3) + vs(r, 'replies'), r.fewshot.value.toFixed(4) + vs(r, 'fewshot'),
    ...taskNames.map((n) => `${(100 * r.accuracy[n]).toFixed(1)}%`),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    'Quantized weights: the demo model on the CPU, held-out text and few-shot items',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runQuantQuality();
}
