// Learning curve of a trained task head against few-shot prompting, on the bundled demo model
// (models/gpt-chat-demo, CPU backend, the built runtime: `npm run build` first).
//   node bench/head-bench.mjs [--sizes 8,32,128] [--seeds 3] [--tasks sentiment,topic] [--context zero-shot|few-shot]
// or: `import { runHeadBench } from './head-bench.mjs'; await runHeadBench()`.
//
// Data: the demo model's held-out eval items (models/gpt-chat-demo/eval/*.json). Test rows are
// the items' queries, which never appear in the model's training text; training rows are drawn
// from the items' solved examples (with any equal to a test query removed), stratified by class,
// seeded. Labels are mapped by position (the first label word of every item is the positive /
// sports / yes / same class), so a task keeps its classes whatever words an item used.
// Few-shot gets the same N training rows as examples (as many as fit the 512-token context, the
// newest kept); the head is trained on all N with its L2 strength chosen by 5-fold CV.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The tasks: eval file, built-in template, the label words the template uses, the recipe. */
const TASKS = [
  { name: 'sentiment', file: 'sentiment', template: 'sentiment' },
  { name: 'sentiment, new label words', file: 'sentiment-unseen-labels', template: 'sentiment', labels: ['like', 'dislike'] },
  { name: 'topic', file: 'topic', template: 'topic' },
  { name: 'topic, new label words', file: 'topic-unseen-labels', template: 'topic', labels: ['teams', 'physics', 'trade', 'dinner'] },
  { name: 'entailment', file: 'entailment', template: 'entailment' },
  { name: 'similarity', file: 'similarity', template: 'similarity', symmetric: ['a', 'b'] },
  { name: 'multiple choice', file: 'multiple-choice', template: 'multiple-choice' },
];

/**
 * Runs the benchmark and prints a markdown table.
 * @param {{ sizes?: number[], seeds?: number, tasks?: string[], context?: 'zero-shot' | 'few-shot', log?: (line: string) => void }} [options]
 */
export async function runHeadBench(options = {}) {
  const { sizes = [8, 32, 128], seeds = 3, context = 'zero-shot', log = console.log } = options;
  const api = await import(root + 'dist/node/index.js');
  const { loadLanguageModel, nodeModelFiles, builtinTemplate, validateTemplate, classify, choose, trainHead, fitPrompt } = api;
  const lm = await loadLanguageModel(nodeModelFiles(root + 'models/gpt-chat-demo'), { backend: 'cpu' });
  const rows = [];
  try {
    log(`| task | test rows | chance | ${sizes.map((n) => `few-shot ${n}`).join(' | ')} | ${sizes.map((n) => `head ${n}`).join(' | ')} | head CV ${sizes.at(-1)} | train s ${sizes.at(-1)} |`);
    log(`|---|---|---|${sizes.map(() => '---').join('|')}|${sizes.map(() => '---').join('|')}|---|---|`);
    for (const task of TASKS.filter((t) => !options.tasks || options.tasks.some((n) => t.file === n || t.name === n))) {
      const data = taskData(task, builtinTemplate, validateTemplate);
      const few = [];
      const head = [];
      let cv = 0;
      let trainSeconds = 0;
      for (const n of sizes) {
        let fewAcc = 0;
        let headAcc = 0;
        for (let seed = 1; seed <= seeds; seed++) {
          const train = stratifiedSample(data.pool, n, seed, data.classOf);
          const fewT = validateTemplate({ ...data.template, examples: train });
          const run = (t, fields, opts) => (t.task === 'classification' ? classify(lm, t, fields, opts) : choose(lm, t, fields, opts));
          // How many examples fit beside the longest query: classify would find the same, one
          // re-encoding of the prompt per dropped example per query; found once here.
          const longest = data.test.reduce((a, q) => (JSON.stringify(q.fields).length > JSON.stringify(a.fields).length ? q : a));
          const k = fitPrompt(fewT, longest.fields, (text) => lm.tokenizer.encodePrompt(text).length, lm.contextLength - 8).kept.length;
          let correct = 0;
          for (const q of data.test) correct += Number((await run(fewT, q.fields, { k })).answer === q.answer);
          fewAcc += correct / data.test.length / seeds;
          const started = performance.now();
          const trained = await trainHead(lm, data.template, train, { seed, recipe: { context, ...(task.symmetric ? { symmetric: task.symmetric } : {}) } });
          if (n === sizes.at(-1)) {
            trainSeconds += (performance.now() - started) / 1000 / seeds;
            cv += trained.validation.accuracy / seeds;
          }
          correct = 0;
          for (const q of data.test) correct += Number((await run(data.template, q.fields, { head: trained })).answer === q.answer);
          headAcc += correct / data.test.length / seeds;
        }
        few.push(fewAcc);
        head.push(headAcc);
      }
      const pct = (v) => `${Math.round(v * 100)}%`;
      rows.push({ task: task.name, test: data.test.length, chance: 1 / data.K, few, head, cv, trainSeconds });
      log(`| ${task.name} | ${data.test.length} | ${pct(1 / data.K)} | ${few.map(pct).join(' | ')} | ${head.map(pct).join(' | ')} | ${pct(cv)} | ${trainSeconds.toFixed(1)} |`);
    }
  } finally {
    lm.dispose();
  }
  return rows;
}

/** The template, the test rows (queries) and the pool of training rows (examples) of a task. */
function taskData(task, builtinTemplate, validateTemplate) {
  const file = JSON.parse(readFileSync(`${root}models/gpt-chat-demo/eval/${task.file}.json`, 'utf8'));
  const base = builtinTemplate(task.template);
  const names = base.task === 'classification' ? (task.labels ?? base.labels.map((l) => l.name)) : [];
  const template = validateTemplate({ ...base, labels: names.map((n) => ({ name: n, text: n })), examples: [] });
  // an item's label word -> the template's label at the same position
  const answer = (item, label) => (base.task === 'classification' ? names[item.labels.indexOf(label)] : label);
  const test = file.items.map((item) => ({ fields: item.query, answer: answer(item, item.gold) }));
  const key = (f) => JSON.stringify(f);
  const seen = new Set(test.map((q) => key(q.fields)));
  const pool = [];
  for (const item of file.items) {
    for (const e of item.examples) {
      if (seen.has(key(e.fields))) continue;
      seen.add(key(e.fields));
      pool.push({ fields: e.fields, answer: answer(item, e.label) });
    }
  }
  const K = base.task === 'classification' ? names.length : base.options.length;
  const classOf = base.task === 'classification' ? (r) => r.answer : (r) => base.options.find((o) => r.fields[o] === r.answer);
  return { template, test, pool, K, classOf };
}

/** n rows, dealt round robin over the classes after a seeded shuffle. */
function stratifiedSample(pool, n, seed, classOf) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffled = [...pool];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const byClass = new Map();
  for (const r of shuffled) byClass.set(classOf(r), [...(byClass.get(classOf(r)) ?? []), r]);
  const queues = [...byClass.values()];
  const out = [];
  for (let i = 0; out.length < Math.min(n, pool.length); i++) {
    const q = queues[i % queues.length];
    if (q.length) out.push(q.shift());
  }
  // the order of a few-shot prompt: shuffled again so classes do not alternate
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await runHeadBench({
    sizes: arg('sizes')?.split(',').map(Number),
    seeds: arg('seeds') ? Number(arg('seeds')) : undefined,
    tasks: arg('tasks')?.split(','),
    context: arg('context'),
  });
}
