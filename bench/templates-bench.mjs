// Benchmark of few-shot label scoring: the time to score 2, 4 and 10 labels after a 256-token
// prompt with the prompt's KV cache reused (classify() from src/templates: one prefill, then each
// label teacher-forced and rewound), against re-running the full prompt for every label, in the
// same run, on the built runtime (dist/node/index.js, `npm run build` first).
//   node bench/templates-bench.mjs [modelDir] [--backend cpu|webgpu]
// or: `import { runTemplatesBench } from './templates-bench.mjs'; await runTemplatesBench()`.
// Default model: .cache/bench-models/llama-15m (`node tools/make-fixtures.mjs --bench`), else the
// llama test fixture.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'north', 'south', 'river', 'stone', 'cloud', 'green'];

/**
 * Runs the benchmark and prints a table.
 * @param {{ modelDir?: string, backend?: 'cpu' | 'webgpu', labelCounts?: number[], promptTokens?: number, repeats?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<object[]>} one row per label count: ms with KV reuse, ms re-running the prompt, speed-up
 */
export async function runTemplatesBench(options = {}) {
  const { backend = 'cpu', labelCounts = [2, 4, 10], promptTokens = 256, repeats = 3, log = console.log } = options;
  const modelDir = options.modelDir ?? (existsSync(root + '.cache/bench-models/llama-15m') ? root + '.cache/bench-models/llama-15m' : root + 'test/fixtures/generated/llama');
  const entry = root + 'dist/node/index.js';
  if (!existsSync(entry)) throw new Error('dist/node/index.js is missing: run `npm run build` first.');
  const { loadLanguageModel, classify, validateTemplate, renderPrompt, nodeModelFiles } = await import(entry);
  const lm = await loadLanguageModel(nodeModelFiles(modelDir), { backend });
  try {
    // llama-15m was trained for 256 positions: the prompt then stops short of 256 to leave room
    // for the labels (the table prints the real length).
    const target = Math.min(promptTokens, lm.contextLength - 16);
    // Examples are added until the rendered prompt is promptTokens long (give or take one example).
    const base = { version: 1, id: 'bench', name: 'Bench', task: 'classification', instruction: 'Label each line.', fields: ['text'], pattern: 'Line: {{text}}\n', answer: 'Label: {{answer}}' };
    const rows = [];
    for (const n of labelCounts) {
      const labels = WORDS.slice(0, n).map((w) => ({ name: w, text: w }));
      const fields = { text: 'the river stone went by' };
      const examples = [];
      let t = validateTemplate({ ...base, labels, examples });
      let previous = t;
      for (let i = 0; lm.tokenizer.encodePrompt(renderPrompt(t, fields)).length < target; i++) {
        examples.push({ fields: { text: `the ${WORDS[(i * 7) % 10]} ${WORDS[(i * 3) % 10]} went by` }, answer: labels[i % n].name });
        previous = t;
        t = validateTemplate({ ...base, labels, examples: examples.slice() });
      }
      if (lm.tokenizer.encodePrompt(renderPrompt(t, fields)).length > target) t = previous; // stay within the target
      let reuse = Infinity;
      let full = Infinity;
      let check;
      for (let r = 0; r < repeats; r++) {
        lm.model.rewind(0); // a cold cache: the prompt is prefilled once inside classify
        let t0 = performance.now();
        const res = await classify(lm, t, fields);
        reuse = Math.min(reuse, performance.now() - t0);
        // baseline: the whole prompt recomputed for every label
        const prompt = lm.tokenizer.encodePrompt(res.prompt);
        t0 = performance.now();
        const totals = [];
        for (const c of res.continuations) {
          lm.model.rewind(0);
          totals.push((await lm.scoreContinuation(prompt, lm.tokenizer.encode(c))).total);
        }
        full = Math.min(full, performance.now() - t0);
        check = { res, totals };
      }
      const maxDiff = Math.max(...check.totals.map((x, i) => Math.abs(x - check.res.logProbs[i])));
      if (maxDiff > 1e-3) throw new Error(`KV reuse and full recompute disagree by ${maxDiff}`);
      rows.push({ labels: n, promptTokens: check.res.promptTokens, reuseMs: reuse, fullMs: full, speedup: full / reuse });
    }
    log(`Label scoring after a ~${target}-token prompt, ${lm.backendKind}, ${modelDir.replace(root, '')} (best of ${repeats})`);
    log(['labels', 'prompt tok', 'KV reuse ms', 'full ms', 'speed-up'].map((h) => h.padStart(12)).join(''));
    for (const r of rows) log([r.labels, r.promptTokens, r.reuseMs.toFixed(1), r.fullMs.toFixed(1), r.speedup.toFixed(2) + 'x'].map((v) => String(v).padStart(12)).join(''));
    return rows;
  } finally {
    lm.dispose();
  }

}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const b = args.indexOf('--backend');
  const backend = b >= 0 ? args[b + 1] : 'cpu';
  const modelDir = args.find((a, i) => !a.startsWith('--') && (b < 0 || i !== b + 1));
  await runTemplatesBench({ backend, ...(modelDir ? { modelDir } : {}) });
}
