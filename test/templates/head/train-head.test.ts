// trainHead on the bundled demo model (CPU): GPT-1's head learns a task few-shot prompting cannot
// (label words the model never saw as labels), a shuffled-label control stays at chance, the head
// travels inside the template JSON and the store, is refused on another model, and bad rows are
// refused before any work.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, type LanguageModel } from '../../../src/runtime/index.ts';
import { nodeModelFiles } from '../../../src/runtime/model-files-node.ts';
import { builtinTemplate, classify, choose, memoryTemplateStore, parseTemplateJson, trainHead, validateTemplate, type FewShotTemplate, type TaskHead } from '../../../src/templates/index.ts';
import { rowFeatures } from '../../../src/templates/head/features.ts';

const DIR = 'models/gpt-chat-demo';
interface Row {
  fields: Record<string, string>;
  answer: string;
}

/** Training rows (the items' examples) and test rows (their queries) of an eval file, labels mapped by position onto `names`. */
function evalRows(file: string, names?: string[]): { train: Row[]; test: Row[] } {
  const items = (JSON.parse(readFileSync(`${DIR}/eval/${file}.json`, 'utf8')) as { items: { labels: string[]; gold: string; query: Record<string, string>; examples: { fields: Record<string, string>; label: string }[] }[] }).items;
  const map = (labels: string[], l: string) => (names ? names[labels.indexOf(l)]! : l);
  const test = items.map((i) => ({ fields: i.query, answer: map(i.labels, i.gold) }));
  const seen = new Set(test.map((r) => JSON.stringify(r.fields)));
  const train = items.flatMap((i) => i.examples.map((e) => ({ fields: e.fields, answer: map(i.labels, e.label) }))).filter((r) => !seen.has(JSON.stringify(r.fields)));
  return { train, test };
}

const withLabels = (id: string, names: string[]): FewShotTemplate => validateTemplate({ ...builtinTemplate(id)!, labels: names.map((n) => ({ name: n, text: n })), examples: [] });

async function accuracy(lm: LanguageModel, t: FewShotTemplate, rows: Row[], head?: TaskHead): Promise<number> {
  let correct = 0;
  for (const r of rows) {
    const s = t.task === 'classification' ? await classify(lm, t, r.fields, head ? { head } : {}) : await choose(lm, t, r.fields, head ? { head } : {});
    correct += Number(s.answer === r.answer);
  }
  return correct / rows.length;
}

describe('trainHead on the demo model (CPU)', () => {
  let lm: LanguageModel;
  beforeAll(async () => {
    lm = await loadLanguageModel(nodeModelFiles(DIR), { backend: 'cpu' });
  });
  afterAll(() => lm?.dispose());

  const unseen = () => withLabels('sentiment', ['like', 'dislike']);
  let head: TaskHead;

  it('learns sentiment with label words the model never saw as labels, where few-shot is at chance', async () => {
    const { train, test } = evalRows('sentiment-unseen-labels', ['like', 'dislike']);
    const rows = train.slice(0, 32);
    const progress: string[] = [];
    head = await trainHead(lm, unseen(), rows, { onProgress: (p) => progress.push(`${p.phase} ${p.done}/${p.total}`), now: () => new Date('2026-01-02T03:04:05Z') });
    expect(head.labels).toEqual(['like', 'dislike']);
    expect(head.model).toEqual({ url: lm.location, weightsHash: lm.weightsHash, C: 192 });
    expect(head.weights.length).toBe(2);
    expect(head.weights[0]!.length).toBe(192);
    expect(head.validation.rows).toBe(32);
    expect(head.validation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(32);
    expect(head.trainedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(progress[0]).toBe('features 0/32');
    expect(progress).toContain('features 32/32');
    expect(progress.at(-1)).toMatch(/^fit (\d+)\/\1$/);
    const t = unseen();
    const held = test.slice(0, 40);
    const few = await accuracy(lm, validateTemplate({ ...t, examples: rows.slice(0, 6) }), held);
    const viaHead = await accuracy(lm, t, held, head);
    expect(viaHead).toBeGreaterThanOrEqual(0.9);
    expect(few).toBeLessThan(0.7); // the model copies label words it knows; these it does not
    const r = await classify(lm, t, held[0]!.fields, { head });
    expect(r.normalisation).toBe('head');
    expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it('stays at chance when the training labels are shuffled (the control)', async () => {
    const { train, test } = evalRows('sentiment-unseen-labels', ['like', 'dislike']);
    const rows = train.slice(32, 96);
    // a fixed derangement of the answers: the same class balance, no relation to the text
    const shuffled = rows.map((r, i) => ({ ...r, answer: ((i * 7) % 3 === 0) ? 'like' : 'dislike' }));
    const control = await trainHead(lm, unseen(), shuffled);
    const acc = await accuracy(lm, unseen(), test.slice(0, 60), control);
    expect(acc).toBeGreaterThan(0.3);
    expect(acc).toBeLessThan(0.7);
    expect(control.validation.accuracy).toBeLessThan(0.75);
  });

  it('multiple choice: one score per (context, option) pair, a softmax over the options', async () => {
    const { train, test } = evalRows('multiple-choice');
    const t = builtinTemplate('multiple-choice')!;
    const mc = await trainHead(lm, t, train.slice(0, 48));
    expect(mc.weights.length).toBe(1);
    expect(mc.labels).toEqual([]);
    expect(mc.validation.confusion.length).toBe(4);
    expect(await accuracy(lm, t, test.slice(0, 30), mc)).toBeGreaterThanOrEqual(0.85); // few-shot: 96%; the hidden state alone: ~30%
  });

  it('similarity: features of both field orders added, so the order does not matter', async () => {
    const t = builtinTemplate('similarity')!;
    const recipe = { context: 'zero-shot' as const, symmetric: ['a', 'b'] as const };
    const ab = await rowFeatures(lm, t, recipe, { a: 'The cat sat.', b: 'A cat was sitting.' });
    const ba = await rowFeatures(lm, t, recipe, { a: 'A cat was sitting.', b: 'The cat sat.' });
    expect(Array.from(ba.x).every((v, i) => Math.abs(v - ab.x[i]!) < 1e-4)).toBe(true);
    const plain = await rowFeatures(lm, t, { context: 'zero-shot' }, { a: 'The cat sat.', b: 'A cat was sitting.' });
    expect(Array.from(plain.x).some((v, i) => Math.abs(v - ab.x[i]!) > 1e-3)).toBe(true);
  });

  it('travels in the template JSON and the store, and gives the same answers after the round trip', async () => {
    const t = { ...unseen(), head };
    const back = parseTemplateJson(JSON.stringify(t), 'mine.json');
    expect(back.head).toEqual(head);
    const store = memoryTemplateStore();
    await store.save(back);
    expect((await store.get(t.id))!.head).toEqual(head);
    const fields = { text: 'The soup was wonderful.' };
    expect((await classify(lm, back, fields, { head: back.head! })).probabilities).toEqual((await classify(lm, t, fields, { head })).probabilities);
  });

  it('is refused on another model, for other labels, and when malformed in an imported file', async () => {
    const other = await loadLanguageModel(nodeModelFiles('test/fixtures/generated/llama'), { backend: 'cpu' });
    try {
      await expect(classify(other, unseen(), { text: 'x' }, { head })).rejects.toMatchObject({ code: 'bad-head', message: expect.stringMatching(/trained on .*gpt-chat-demo.* but the loaded model is .*llama.*train the head again/) });
    } finally {
      other.dispose();
    }
    await expect(classify(lm, withLabels('sentiment', ['up', 'down']), { text: 'x' }, { head })).rejects.toMatchObject({ code: 'bad-head', message: expect.stringMatching(/has the labels up, down, but its head was trained for like, dislike/) });
    const broken = (h: unknown) => () => parseTemplateJson(JSON.stringify({ ...unseen(), head: h }), 'shared.json');
    expect(broken({ ...head, weights: [head.weights[0]] })).toThrow(/shared.json: head: "weights" must be 2 row\(s\) of 192 numbers, found 1 row/);
    expect(broken({ ...head, bias: [0, 'x'] })).toThrow(/head.bias\[1\] is "x", not a finite number/);
    expect(broken({ ...head, version: 9 })).toThrow(/"version" is 9; this version of gpt-chat reads head version 1/);
    expect(broken({ ...head, model: { ...head.model, weightsHash: 'nope' } })).toThrow(/weightsHash" is "nope", not 16 hex digits/);
    expect(broken({ ...head, recipe: { context: 'zero-shot', likelihood: true } })).toThrow(/"likelihood" is set for a classification head/);
    expect(broken({ ...head, recipe: { context: 'sometimes' } })).toThrow(/"context" is "sometimes"/);
    expect(broken({ ...head, task: 'multiple-choice', labels: [], weights: [head.weights[0]], bias: [0] })).toThrow(/the head was trained for multiple-choice, but the template is classification/);
    try {
      broken({ ...head, weights: 3 })();
    } catch (e) {
      expect((e as { code: string }).code).toBe('bad-head');
    }
  });

  it('refuses bad rows before computing anything: unknown label, empty field, one class, too many rows', async () => {
    let calls = 0;
    const counting = Object.create(lm, { hiddenStates: { value: (...a: Parameters<LanguageModel['hiddenStates']>) => (calls++, lm.hiddenStates(...a)) } }) as LanguageModel;
    const t = unseen();
    const ok = { fields: { text: 'Lovely.' }, answer: 'like' };
    const bad = async (rows: unknown[], re: RegExp, code: string, options = {}) => {
      await expect(trainHead(counting, t, rows, options)).rejects.toMatchObject({ code, message: expect.stringMatching(re) });
    };
    await bad([ok, { fields: { text: 'Meh.' }, answer: 'meh' }], /rows\[1\] has the answer "meh", which is not one of the labels \(like, dislike\)/, 'bad-template');
    await bad([ok, { fields: { text: '  ' }, answer: 'dislike' }], /rows\[1\]: the field "text" is empty/, 'bad-template');
    await bad([ok, { fields: { text: 'Fine.' }, answer: 'like' }], /every row has the answer "like", so there is nothing to tell apart/, 'bad-template');
    await bad([ok, { fields: { txt: 'x' }, answer: 'like' }], /rows\[1\] is missing the field "text"/, 'bad-template');
    await bad([], /needs labelled rows/, 'bad-argument');
    const many = Array.from({ length: 5000 }, (_, i) => ({ fields: { text: `row ${i}` }, answer: i % 2 ? 'like' : 'dislike' }));
    await bad(many, /5000 rows of 192 features need about 15 MB .* more than the 8 MB allowed/, 'bad-argument', { maxFeatureBytes: 8 * 2 ** 20 });
    await expect(trainHead(counting, builtinTemplate('sentiment')!, [ok], { recipe: { symmetric: ['text', 'nope'] } })).rejects.toMatchObject({ code: 'bad-argument' });
    expect(calls).toBe(0);
    const abort = new AbortController();
    abort.abort();
    await expect(trainHead(counting, t, [ok, { fields: { text: 'Awful.' }, answer: 'dislike' }], { signal: abort.signal })).rejects.toMatchObject({ code: 'aborted' });
  });
});
