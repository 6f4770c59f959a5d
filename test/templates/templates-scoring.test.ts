// Template scoring on generated fixture models, CPU and WebGPU (Dawn): every label's score equals
// the brute-force sum of teacher-forced log-softmax values (a fresh prefill per token, no cache),
// the prompt is prefilled once for all labels, examples are dropped to fit small contexts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLanguageModel, logSoftmaxAt, nodeModelFiles, type LanguageModel } from '../../src/node.ts'; // Dawn for 'webgpu'
import { builtinTemplate, choose, classify, renderPrompt, templatePrompt, validateTemplate, type ScoringModel } from '../../src/templates/index.ts';

const files = (name: string) => nodeModelFiles(`test/fixtures/generated/${name}`);

/** log p(continuation | prefix) without the KV cache: one fresh prefill per continuation token. */
async function bruteForce(lm: LanguageModel, prefix: number[], continuation: number[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < continuation.length; i++) {
    lm.model.rewind(0);
    const logits = await lm.model.prefill([...prefix, ...continuation.slice(0, i)]);
    out.push(logSoftmaxAt(logits, 0, lm.config.V, continuation[i]!));
  }
  return out;
}

/** `lm` as a ScoringModel that counts prompt prefills and continuation scorings. */
function counting(lm: LanguageModel) {
  const calls = { sync: [] as number[], score: 0 };
  const model: ScoringModel = {
    tokenizer: lm.tokenizer,
    model: {
      contextLength: lm.contextLength,
      sync: (ids, signal) => (calls.sync.push(ids.length), lm.model.sync(ids, signal)),
      scoreContinuation: (ids, signal) => (calls.score++, lm.model.scoreContinuation(ids, signal)),
    },
  };
  return { model, calls };
}

// Labels of several tokens each (the fixture tokenizers know ~120 merges), so per-token scoring matters.
const sentimentFewShot = validateTemplate({
  ...builtinTemplate('sentiment')!,
  labels: [
    { name: 'positive', text: 'positive review' },
    { name: 'negative', text: 'negative' },
    { name: 'mixed', text: 'a bit of both, really' },
  ],
  instruction: 'Classify each review as {{label1}}, {{label2}} or {{label3}}.',
  examples: builtinTemplate('sentiment')!.examples.slice(0, 2),
});

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`template scoring on the ${backend} backend`, () => {
    let lm: LanguageModel;
    // Dawn on SwiftShader is slow and brute force costs a prefill per token: zero-shot prompts there.
    const sentiment = backend === 'cpu' ? sentimentFewShot : validateTemplate({ ...sentimentFewShot, examples: [] });
    const mc = backend === 'cpu' ? builtinTemplate('multiple-choice')! : validateTemplate({ ...builtinTemplate('multiple-choice')!, examples: [] });
    beforeAll(async () => {
      lm = await loadLanguageModel(files('smollm2-135m'), { backend, prefillChunk: 16 });
    });
    afterAll(() => lm?.dispose());

    it('classify: each label = brute-force teacher-forced sum; one prompt prefill for all labels', async () => {
      const { model, calls } = counting(lm);
      let clock = 100;
      const r = await classify(model, sentiment, { text: 'The soup was cold.' }, { now: () => (clock += 7) });
      expect(calls.sync).toHaveLength(1);
      expect(calls.score).toBe(3);
      const promptIds = lm.tokenizer.encodePrompt(renderPrompt(sentiment, { text: 'The soup was cold.' }));
      expect(r.prompt).toBe(renderPrompt(sentiment, { text: 'The soup was cold.' }));
      expect(r.promptTokens).toBe(promptIds.length);
      expect(calls.sync[0]).toBe(promptIds.length);
      expect(r.ms).toBe(7);
      expect(r.candidates).toEqual(['positive', 'negative', 'mixed']);
      expect(r.continuations).toEqual([' positive review', ' negative', ' a bit of both, really']);
      for (let i = 0; i < 3; i++) {
        const cont = lm.tokenizer.encode(r.continuations[i]!);
        expect(r.perToken[i]).toHaveLength(cont.length);
        const bf = await bruteForce(lm, promptIds, cont);
        bf.forEach((v, j) => expect(Math.abs(r.perToken[i]![j]! - v)).toBeLessThan(backend === 'cpu' ? 1e-5 : 1e-3));
        expect(Math.abs(r.logProbs[i]! - bf.reduce((a, b) => a + b, 0))).toBeLessThan(backend === 'cpu' ? 1e-5 : 2e-3);
      }
      expect(r.perToken[2]!.length).toBeGreaterThan(3);
      // summed: the probabilities are the label likelihoods renormalised
      const z = r.logProbs.reduce((s, x) => s + Math.exp(x), 0);
      r.probabilities.forEach((p, i) => expect(p).toBeCloseTo(Math.exp(r.logProbs[i]!) / z, 10));
      expect(r.best).toBe(r.logProbs.indexOf(Math.max(...r.logProbs)));
      expect(r.answer).toBe(r.candidates[r.best]);
    });

    it('per-token mean and calibrated on "N/A" match the brute-force numbers', async () => {
      const q = { text: 'I loved every minute.' };
      const mean = await classify(lm, sentiment, q, { normalisation: 'mean' });
      mean.scores.forEach((s, i) => expect(s).toBeCloseTo(mean.logProbs[i]! / mean.perToken[i]!.length, 10));
      const { model, calls } = counting(lm);
      const cal = await classify(model, sentiment, q, { normalisation: 'calibrated' });
      expect(calls.sync).toHaveLength(2); // the query's prompt and the content-free prompt
      const cfIds = lm.tokenizer.encodePrompt(renderPrompt(sentiment, { text: 'N/A' }));
      const cfTotals: number[] = [];
      for (const c of cal.continuations) cfTotals.push((await bruteForce(lm, cfIds, lm.tokenizer.encode(c))).reduce((a, b) => a + b, 0));
      const cfZ = cfTotals.reduce((s, x) => s + Math.exp(x), 0);
      const tol = backend === 'cpu' ? 1e-5 : 2e-3;
      cal.contentFree!.forEach((p, i) => expect(Math.abs(p - Math.exp(cfTotals[i]!) / cfZ)).toBeLessThan(tol));
      const ratio = cal.logProbs.map((l, i) => Math.exp(l) / cal.contentFree![i]!);
      const rz = ratio.reduce((a, b) => a + b, 0);
      cal.probabilities.forEach((p, i) => expect(p).toBeCloseTo(ratio[i]! / rz, 8));
    });

    it('choose: options scored after the prompt; unconditional divides by p(option | "Answer:")', async () => {
      const t = mc;
      const q = { question: 'What color is snow?', a: 'red', b: 'white', c: 'green', d: 'dark blue' };
      const r = await choose(lm, t, q, { normalisation: 'unconditional' });
      expect(r.candidates).toEqual(['red', 'white', 'green', 'dark blue']);
      const stem = lm.tokenizer.encodePrompt('Answer:');
      const promptIds = lm.tokenizer.encodePrompt(r.prompt);
      const tol = backend === 'cpu' ? 1e-5 : 2e-3;
      for (let i = 0; i < 4; i++) {
        const cont = lm.tokenizer.encode(' ' + r.candidates[i]);
        const cond = (await bruteForce(lm, promptIds, cont)).reduce((a, b) => a + b, 0);
        const uncond = (await bruteForce(lm, stem, cont)).reduce((a, b) => a + b, 0);
        expect(Math.abs(r.logProbs[i]! - cond)).toBeLessThan(tol);
        expect(Math.abs(r.unconditional![i]! - uncond)).toBeLessThan(tol);
        expect(r.scores[i]).toBeCloseTo(r.logProbs[i]! - r.unconditional![i]!, 10);
      }
      const len = await choose(lm, t, q, { normalisation: 'length' });
      expect(len.scores[3]).toBeCloseTo(len.logProbs[3]! / ' dark blue'.length, 10);
    });

    it('drops the oldest examples to fit a small context window and says so', async () => {
      const small = await loadLanguageModel(files('smollm2-135m'), { backend, contextLength: 96 });
      try {
        const t = sentimentFewShot;
        const full = lm.tokenizer.encodePrompt(renderPrompt(t, { text: 'ok' })).length;
        expect(full).toBeGreaterThan(96); // the fixture tokenizer is mostly bytes
        const r = await classify(small, t, { text: 'ok' });
        expect(r.droppedExamples.length).toBeGreaterThan(0);
        expect(r.droppedExamples[0]).toBe(0);
        const kept = t.examples.slice(r.droppedExamples.length);
        expect(r.prompt).toBe(renderPrompt(t, { text: 'ok' }, kept));
        const longest = Math.max(...r.continuations.map((c) => small.tokenizer.encode(c).length));
        expect(r.promptTokens + longest - 1).toBeLessThanOrEqual(96);
        await expect(classify(small, t, { text: 'x'.repeat(200) })).rejects.toMatchObject({ code: 'context-overflow' });
      } finally {
        small.dispose();
      }
    });
  });
}

describe('template scoring: arguments', () => {
  let lm: LanguageModel;
  beforeAll(async () => {
    lm = await loadLanguageModel(files('gpt2'), { backend: 'cpu' });
  });
  afterAll(() => lm?.dispose());

  it('refuses the wrong task, a bad normalisation, missing fields, an invalid template', async () => {
    await expect(classify(lm, builtinTemplate('multiple-choice')!, {})).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/use choose\(\)/) });
    await expect(choose(lm, builtinTemplate('topic')!, { text: 'x' })).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/use classify\(\)/) });
    await expect(classify(lm, builtinTemplate('topic')!, { text: 'x' }, { normalisation: 'length' as 'mean' })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(classify(lm, builtinTemplate('entailment')!, { premise: 'x' })).rejects.toMatchObject({
      code: 'bad-template',
      message: 'template "entailment": the query is missing the field "hypothesis". HINT: every example and query needs "premise", "hypothesis".',
    });
    await expect(classify(lm, { ...builtinTemplate('topic')!, version: 3 as 1 }, { text: 'x' })).rejects.toMatchObject({ code: 'bad-template' });
  });

  it('k = 0 scores zero-shot; templatePrompt leaves room for a completion', async () => {
    const r = await classify(lm, builtinTemplate('topic')!, { text: 'Shares fall' }, { k: 0 });
    expect(r.prompt).toBe('Classify each headline by topic: sports, science, business or food.\n\nHeadline: Shares fall\nTopic:');
    const gen = validateTemplate({ version: 1, id: 'g', name: 'G', task: 'generation', fields: ['q'], pattern: 'Q: {{q}}\n', answer: 'A: {{answer}}', examples: [{ fields: { q: 'hi' }, answer: 'hello' }] });
    const p = templatePrompt(lm, gen, { q: 'bye' }, 32);
    expect(p.text).toBe('Q: hi\nA: hello\n\nQ: bye\nA:');
    expect(p.tokens + 32).toBeLessThanOrEqual(lm.contextLength);
  });
});
