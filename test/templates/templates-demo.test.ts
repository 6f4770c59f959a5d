// The bundled demo model (models/gpt-chat-demo) through the template code path on the CPU: the
// built-in templates render its held-out eval prompts byte for byte, and classify / choose reach
// the accuracy the demo-model issue names (>= 90%) on sentiment and multiple choice, agreeing with
// the predictions the Python trainer recorded in eval/*.json.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, type LanguageModel } from '../../src/runtime/index.ts';
import { nodeModelFiles } from '../../src/runtime/model-files-node.ts';
import { builtinTemplate, choose, classify, renderPrompt, validateTemplate, type FewShotTemplate } from '../../src/templates/index.ts';

const DIR = 'models/gpt-chat-demo';

interface EvalItem {
  labels: string[];
  instructionLabels: string[];
  examples: { fields: Record<string, string>; label: string }[];
  query: Record<string, string>;
  gold: string;
  prompt: string;
  predicted: string;
}
interface EvalFile {
  task: string;
  measuredAccuracy: number;
  items: EvalItem[];
}

const evalFile = (name: string): EvalFile => JSON.parse(readFileSync(`${DIR}/eval/${name}.json`, 'utf8')) as EvalFile;

/** The built-in template of the item's task with the item's label words and examples. */
function templateFor(task: string, item: EvalItem): FewShotTemplate {
  const t = builtinTemplate(task)!;
  return validateTemplate({
    ...t,
    labels: t.task === 'classification' ? item.instructionLabels.map((l) => ({ name: l, text: l })) : [],
    examples: item.examples.map((e) => ({ fields: e.fields, answer: e.label })),
  });
}

describe('the demo model through the template code path (CPU)', () => {
  let lm: LanguageModel;
  beforeAll(async () => {
    lm = await loadLanguageModel(nodeModelFiles(DIR), { backend: 'cpu' });
  });
  afterAll(() => lm?.dispose());

  it('renders every eval prompt of every task byte for byte', () => {
    const names = readdirSync(`${DIR}/eval`).filter((f) => f.endsWith('.json') && f !== 'chat.json').map((f) => f.replace(/\.json$/, ''));
    expect(names).toEqual(expect.arrayContaining(['sentiment', 'multiple-choice', 'topic', 'entailment', 'similarity']));
    for (const name of names) {
      const file = evalFile(name);
      for (const item of file.items) expect(renderPrompt(templateFor(file.task, item), item.query), `${name}`).toBe(item.prompt);
    }
  });

  for (const [name, minAccuracy] of [['sentiment', 0.9], ['multiple-choice', 0.9]] as const) {
    it(`${name}: accuracy >= ${minAccuracy * 100}% with summed label log-probabilities`, async () => {
      const file = evalFile(name);
      let correct = 0;
      let agree = 0;
      for (const item of file.items) {
        const t = templateFor(file.task, item);
        const r = t.task === 'classification' ? await classify(lm, t, item.query) : await choose(lm, t, item.query);
        expect(r.droppedExamples).toEqual([]);
        expect(r.prompt).toBe(item.prompt);
        if (t.task === 'multiple-choice') expect(r.candidates).toEqual(item.labels);
        correct += Number(r.answer === item.gold);
        agree += Number(r.answer === item.predicted);
      }
      const accuracy = correct / file.items.length;
      // The Python trainer scored the same prompts in float32 torch: only near-ties may differ.
      expect(agree / file.items.length, 'agreement with the trainer').toBeGreaterThanOrEqual(0.97);
      expect(Math.abs(accuracy - file.measuredAccuracy)).toBeLessThanOrEqual(0.03);
      expect(accuracy, `${name} accuracy`).toBeGreaterThanOrEqual(minAccuracy);
    });
  }
});
