// Few-shot templates, pure parts: rendering (exact strings, the format of tools/demo-model/fewshot.py),
// validation errors, context fitting, and the normalisation maths on hand-computed numbers.
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_TEMPLATES,
  builtinTemplate,
  calibrated,
  candidateTexts,
  contentFreeDistribution,
  evaluationReport,
  fieldsFromMessage,
  parseExampleRows,
  fitPrompt,
  memoryTemplateStore,
  logSumExp,
  parseTemplateJson,
  perByteMean,
  perTokenMean,
  renderPrompt,
  softmax,
  unconditionalNormalised,
  validateTemplate,
  type FewShotTemplate,
} from '../../src/templates/index.ts';
import { GptError } from '../../src/errors.ts';

const get = (id: string): FewShotTemplate => builtinTemplate(id)!;

describe('rendering the built-in templates', () => {
  it('has the five task types of the GPT papers', () => {
    expect(BUILTIN_TEMPLATES.map((t) => `${t.id}:${t.task}:${t.labels.length || t.options.length}`)).toEqual([
      'sentiment:classification:2',
      'topic:classification:4',
      'entailment:classification:3',
      'similarity:classification:2',
      'multiple-choice:multiple-choice:4',
    ]);
  });

  it('sentiment: instruction with the label words, four examples, the query up to "Sentiment:"', () => {
    expect(renderPrompt(get('sentiment'), { text: 'Great food.' })).toBe(
      'Classify each review as positive or negative.\n\nReview: The pizza was delicious.\nSentiment: positive\n\n' +
        'Review: The room was dirty and the staff was rude.\nSentiment: negative\n\n' +
        'Review: Such a charming hotel! Highly recommended.\nSentiment: positive\n\n' +
        'Review: I thought the movie was boring. Never again.\nSentiment: negative\n\n' +
        'Review: Great food.\nSentiment:',
    );
  });

  it('topic, zero-shot: instruction and query only', () => {
    expect(renderPrompt(get('topic'), { text: 'Shares fall' }, [])).toBe(
      'Classify each headline by topic: sports, science, business or food.\n\nHeadline: Shares fall\nTopic:',
    );
  });

  it('entailment: two fields per example', () => {
    const t = get('entailment');
    expect(renderPrompt(t, { premise: 'P.', hypothesis: 'H.' }, t.examples.slice(0, 1))).toBe(
      'Does the premise imply the hypothesis? Answer yes, no or maybe.\n\nPremise: The boy is swimming in the pool.\n' +
        'Hypothesis: Someone is swimming.\nAnswer: yes\n\nPremise: P.\nHypothesis: H.\nAnswer:',
    );
  });

  it('similarity', () => {
    const t = get('similarity');
    expect(renderPrompt(t, { a: 'A.', b: 'B.' }, t.examples.slice(0, 1))).toBe(
      'Do the two sentences mean the same thing? Answer same or different.\n\nSentence 1: My brother bought the car.\n' +
        'Sentence 2: My brother purchased the automobile.\nAnswer: same\n\nSentence 1: A.\nSentence 2: B.\nAnswer:',
    );
  });

  it('multiple choice: the options are fields, the answer is the option text', () => {
    const t = get('multiple-choice');
    const q = { question: 'Q?', a: 'w', b: 'x', c: 'y', d: 'z' };
    expect(renderPrompt(t, q, t.examples.slice(0, 1))).toBe(
      'Answer each question with one of the options.\n\nQuestion: Which animal says moo?\nOptions: cat, cow, owl, dog\nAnswer: cow\n\n' +
        'Question: Q?\nOptions: w, x, y, z\nAnswer:',
    );
    expect(candidateTexts(t, q)).toEqual(['w', 'x', 'y', 'z']);
  });

  it('label names and label texts differ: examples name a label, the prompt shows its text', () => {
    const t = validateTemplate({ ...get('sentiment'), labels: [{ name: 'Positive', text: 'good' }, { name: 'Negative', text: 'bad' }], examples: [{ fields: { text: 'x' }, answer: 'Negative' }] });
    expect(renderPrompt(t, { text: 'y' })).toBe('Classify each review as good or bad.\n\nReview: x\nSentiment: bad\n\nReview: y\nSentiment:');
    expect(candidateTexts(t, { text: 'y' })).toEqual(['good', 'bad']);
  });

  it('no instruction, another separator, whitespace before {{answer}} moved out of the prompt', () => {
    const t = validateTemplate({ version: 1, id: 'q', name: 'Q', task: 'generation', fields: ['q'], pattern: 'Q: {{q}}', answer: '\nA:\t{{ answer }}', separator: '\n###\n', examples: [{ fields: { q: '1+1' }, answer: '2' }] });
    expect(renderPrompt(t, { q: '2+2' })).toBe('Q: 1+1\nA:\t2\n###\nQ: 2+2\nA:');
  });
});

describe('fitting the context window', () => {
  const t = get('sentiment');
  const chars = (s: string) => s.length; // a "tokenizer" with one token per character

  it('keeps every example when the prompt fits', () => {
    const full = renderPrompt(t, { text: 'ok' });
    const fit = fitPrompt(t, { text: 'ok' }, chars, full.length);
    expect(fit).toEqual({ text: full, tokens: full.length, dropped: [], kept: [0, 1, 2, 3] });
  });

  it('drops the oldest examples first and says which', () => {
    const twoLeft = renderPrompt(t, { text: 'ok' }, t.examples.slice(2));
    const fit = fitPrompt(t, { text: 'ok' }, chars, twoLeft.length + 5);
    expect(fit.dropped).toEqual([0, 1]);
    expect(fit.kept).toEqual([2, 3]);
    expect(fit.text).toBe(twoLeft);
  });

  it('k caps the examples (the last k) without counting them as dropped', () => {
    const fit = fitPrompt(t, { text: 'ok' }, chars, 10_000, 1);
    expect(fit.text).toBe(renderPrompt(t, { text: 'ok' }, t.examples.slice(3)));
    expect(fit.dropped).toEqual([]);
    expect(fitPrompt(t, { text: 'ok' }, chars, 10_000, 0).text).toBe('Classify each review as positive or negative.\n\nReview: ok\nSentiment:');
  });

  it('throws context-overflow when even the zero-shot prompt is too long', () => {
    expect(() => fitPrompt(t, { text: 'x'.repeat(100) }, chars, 50)).toThrow(/query alone takes \d+ tokens, but only 50 fit/);
    try {
      fitPrompt(t, { text: 'x'.repeat(100) }, chars, 50);
    } catch (e) {
      expect((e as GptError).code).toBe('context-overflow');
    }
  });
});

/** The message of the GptError('bad-template') that `fn` throws. */
function badTemplate(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GptError);
    expect((e as GptError).code).toBe('bad-template');
    return (e as GptError).message;
  }
  throw new Error('expected a bad-template error');
}

describe('validation names the field and says what to do', () => {
  const sentiment = JSON.parse(JSON.stringify(get('sentiment'))) as Record<string, unknown>;
  const mc = JSON.parse(JSON.stringify(get('multiple-choice'))) as Record<string, unknown>;
  const v = (patch: Record<string, unknown>, base = sentiment) => badTemplate(() => validateTemplate({ ...base, ...patch }));

  it('accepts every built-in as JSON and fills defaults', () => {
    for (const t of BUILTIN_TEMPLATES) expect(validateTemplate(JSON.parse(JSON.stringify(t)))).toEqual(t);
    const { separator: _s, contentFree: _c, examples: _e, ...minimal } = sentiment;
    const t = validateTemplate(minimal);
    expect([t.separator, t.contentFree, t.examples]).toEqual(['\n\n', ['N/A'], []]);
  });

  it('wrong or missing version', () => {
    expect(v({ version: 2 })).toBe('template "sentiment": "version" is 2; this version of gpt-chat reads version 1. HINT: set "version": 1 (a newer file needs a newer gpt-chat).');
    expect(v({ version: undefined })).toMatch(/"version" is missing/);
  });

  it('unknown placeholder in the pattern, the answer line and the instruction', () => {
    expect(v({ pattern: 'Review: {{txt}}\n' })).toBe('template "sentiment": "pattern" has the unknown placeholder {{txt}}. HINT: the fields are text; add "txt" to "fields" or fix the placeholder.');
    expect(v({ answer: 'Sentiment: {{label}}' })).toMatch(/"answer" has the unknown placeholder \{\{label\}\}/);
    expect(v({ instruction: 'Classify {{text}}' })).toMatch(/"instruction" has the unknown placeholder \{\{text\}\}/);
    expect(v({ instruction: 'One of {{label1}} {{label3}}' })).toMatch(/uses \{\{label3\}\} but the template has 2 labels.*\{\{label1\}\} \.\. \{\{label2\}\}/);
  });

  it('answer line without {{answer}} at its end', () => {
    expect(v({ answer: 'Sentiment:' })).toMatch(/"answer" is "Sentiment:"; it must end with one \{\{answer\}\}/);
    expect(v({ answer: '{{answer}} is the sentiment' })).toMatch(/must end with one \{\{answer\}\}/);
  });

  it('a field the pattern never uses, bad and reserved field names', () => {
    expect(v({ fields: ['text', 'extra'] })).toMatch(/"pattern" never uses the field "extra"/);
    expect(v({ fields: ['te xt'] })).toMatch(/"fields" has the name "te xt"/);
    expect(v({ fields: ['answer'] })).toMatch(/"fields" has the reserved name "answer"/);
    expect(v({ fields: ['text', 'text'] })).toMatch(/"fields" names "text" twice/);
    expect(v({ fields: [] })).toMatch(/"fields" is empty/);
  });

  it('missing field in an example, and a field it should not have', () => {
    expect(v({ examples: [{ fields: {}, answer: 'positive' }] })).toBe(
      'template "sentiment": examples[0] is missing the field "text". HINT: every example and query needs "text".',
    );
    expect(v({ examples: [{ fields: { text: 'a', mood: 'b' }, answer: 'positive' }] })).toMatch(/examples\[0\] has the field "mood", which the template does not declare/);
    expect(v({ examples: [{ fields: { text: 'a' } }] })).toMatch(/examples\[0\] has no "answer"/);
  });

  it('empty and duplicate labels, and too few', () => {
    expect(v({ labels: [{ name: 'positive', text: '' }, { name: 'negative', text: 'negative' }] })).toMatch(/"labels\[0\]\.text" is empty or missing/);
    expect(v({ labels: [{ name: '', text: 'x' }, { name: 'negative', text: 'negative' }] })).toMatch(/"labels\[0\]\.name" is empty or missing/);
    expect(v({ labels: [{ name: 'positive', text: 'positive' }, { name: 'positive', text: 'good' }] })).toMatch(/"labels\[1\]\.name" repeats "positive"/);
    expect(v({ labels: [{ name: 'positive', text: 'good' }, { name: 'negative', text: 'good' }] })).toMatch(/"labels\[1\]\.text" repeats "good".*same score/);
    expect(v({ labels: [{ name: 'positive', text: 'positive' }], instruction: '' })).toMatch(/"labels" has 1 label\. HINT: a classification needs at least two/);
  });

  it('an example whose label is not in the set', () => {
    expect(v({ examples: [{ fields: { text: 'meh' }, answer: 'neutral' }] })).toBe(
      'template "sentiment": examples[0] has the answer "neutral", which is not one of the labels (positive, negative). HINT: add the label or fix the answer.',
    );
  });

  it('multiple choice: answer not among the options, options that are not fields, repeated options', () => {
    expect(v({ examples: [{ fields: { question: 'q', a: '1', b: '2', c: '3', d: '4' }, answer: '5' }] }, mc)).toMatch(/examples\[0\] has the answer "5", which is not one of its options \("1", "2", "3", "4"\)/);
    expect(v({ options: ['a', 'e'] }, mc)).toMatch(/"options" names "e", which is not a field/);
    expect(v({ examples: [{ fields: { question: 'q', a: '1', b: '1', c: '3', d: '4' }, answer: '1' }] }, mc)).toMatch(/the option "1" appears twice/);
    expect(v({ labels: [{ name: 'a', text: 'a' }] }, mc)).toMatch(/"labels" is set, but a multiple-choice template has no labels/);
  });

  it('unknown keys, bad id, bad task, not an object', () => {
    expect(v({ instrution: 'x' })).toMatch(/"instrution" is not a template field.*check the spelling/);
    expect(v({ id: 'my template' })).toMatch(/"id" is "my template"; use letters, digits/);
    expect(v({ task: 'regression' })).toMatch(/"task" is "regression". HINT: use one of "classification", "multiple-choice", "generation"/);
    expect(badTemplate(() => validateTemplate([]))).toMatch(/^template: must be a JSON object, found a list/);
  });

  it('a malformed file is bad-json naming the file; a valid one parses', () => {
    try {
      parseTemplateJson('{"version": 1,', 'mine.json');
      throw new Error('no error');
    } catch (e) {
      expect((e as GptError).code).toBe('bad-json');
      expect((e as GptError).message).toMatch(/^mine\.json is not valid JSON/);
    }
    expect(parseTemplateJson(JSON.stringify(get('topic')))).toEqual(get('topic'));
    expect(badTemplate(() => parseTemplateJson('{"version": 1}', 'x.json'))).toMatch(/^x\.json: "id" must be a string, found nothing/);
  });
});

describe('normalisation maths on hand-computed numbers', () => {
  const close = (a: readonly number[], b: readonly number[], eps = 1e-12) => a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThan(eps));

  it('softmax renormalises label probabilities over the labels', () => {
    // p = 0.2, 0.05, 0.25 -> 0.4, 0.1, 0.5
    close(softmax([Math.log(0.2), Math.log(0.05), Math.log(0.25)]), [0.4, 0.1, 0.5]);
    close(softmax([1000, 1000]), [0.5, 0.5]); // no overflow
    close(softmax([0, -Infinity]), [1, 0]);
    expect(logSumExp([Math.log(1), Math.log(3)])).toBeCloseTo(Math.log(4), 12);
  });

  it('per-token mean: -6 over 3 tokens beats -3 over 1', () => {
    expect(perTokenMean([-6, -3], [3, 1])).toEqual([-2, -3]);
    close(softmax(perTokenMean([-6, -3], [3, 1])), [Math.E / (Math.E + 1), 1 / (Math.E + 1)]);
  });

  it('length normalisation divides by UTF-8 bytes (" café" is 6)', () => {
    expect(perByteMean([-6, -6], [' dog', ' café'])).toEqual([-1.5, -1]);
  });

  it('unconditional: log p(option | prompt) - log p(option | "Answer:")', () => {
    // the common option is likely anywhere; the rare one is made likely by the prompt
    const scores = unconditionalNormalised([Math.log(0.5), Math.log(0.3)], [Math.log(0.5), Math.log(0.1)]);
    close(scores, [0, Math.log(3)]);
    close(softmax(scores), [0.25, 0.75]);
  });

  it('calibration (Zhao et al. 2021): divide by the content-free distribution, renormalise', () => {
    // model prefers label 0 everywhere: p = (0.6, 0.2) -> (0.75, 0.25); on "N/A" (0.8, 0.2)
    const cf = contentFreeDistribution([[Math.log(0.8), Math.log(0.2)]]);
    close(cf, [0.8, 0.2]);
    // (0.75 / 0.8, 0.25 / 0.2) = (0.9375, 1.25) -> (0.428571.., 0.571428..): the decision flips
    close(softmax(calibrated([Math.log(0.6), Math.log(0.2)], cf)), [0.9375 / 2.1875, 1.25 / 2.1875]);
    // two content-free inputs: their renormalised distributions are averaged
    close(contentFreeDistribution([[Math.log(0.3), Math.log(0.1)], [Math.log(0.1), Math.log(0.1)]]), [0.625, 0.375]);
  });
});

describe('template mode: a chat message as the query', () => {
  it('one field takes the whole message', () => {
    expect(fieldsFromMessage(get('sentiment'), '  The soup was cold.\n')).toEqual({ text: 'The soup was cold.' });
  });

  it('several fields: "name: value" lines (any case), values on lines, or tab-separated', () => {
    const t = get('entailment');
    expect(fieldsFromMessage(t, 'Hypothesis: Someone is out.\npremise: A man is in the park.')).toEqual({ premise: 'A man is in the park.', hypothesis: 'Someone is out.' });
    expect(fieldsFromMessage(t, 'A man runs.\nSomeone moves.')).toEqual({ premise: 'A man runs.', hypothesis: 'Someone moves.' });
    expect(fieldsFromMessage(t, 'A man runs.\tSomeone moves.')).toEqual({ premise: 'A man runs.', hypothesis: 'Someone moves.' });
  });

  it('says which fields are missing', () => {
    expect(() => fieldsFromMessage(get('entailment'), 'premise: only this')).toThrow(/needs premise, hypothesis; missing hypothesis. HINT: write one line per field/);
    expect(() => fieldsFromMessage(get('multiple-choice'), 'What?')).toThrow(GptError);
  });
});

describe('template store', () => {
  it('saves validated copies, lists by name, drops what is no longer valid', async () => {
    const store = memoryTemplateStore();
    await store.save(get('topic'));
    await store.save({ ...get('sentiment'), id: 'mine', name: 'A mine' });
    expect((await store.list()).map((t) => t.id)).toEqual(['mine', 'topic']);
    expect(await store.get('topic')).toEqual(get('topic'));
    await expect(store.save({ ...get('topic'), labels: [] })).rejects.toMatchObject({ code: 'bad-template' });
    await store.remove('mine');
    expect((await store.list()).map((t) => t.id)).toEqual(['topic']);
    expect(await store.get('nope')).toBeUndefined();
  });
});

describe('tab-separated rows and evaluation reports', () => {
  it('parses rows into examples and names the first bad row', () => {
    expect(parseExampleRows(get('entailment'), 'A man runs.\tSomeone moves.\tyes\n\n A cat sleeps. \tThe cat runs.\tno\r\n')).toEqual([
      { fields: { premise: 'A man runs.', hypothesis: 'Someone moves.' }, answer: 'yes' },
      { fields: { premise: 'A cat sleeps.', hypothesis: 'The cat runs.' }, answer: 'no' },
    ]);
    expect(() => parseExampleRows(get('entailment'), 'a\tb\tyes\nonly two\tcells')).toThrow('Row 2 has 2 cells; expected 3 (premise, hypothesis, answer), separated by tabs.');
    expect(() => parseExampleRows(get('entailment'), 'a\tb\tperhaps')).toThrow(/Row 1 has the answer "perhaps", which is not one of the labels \(yes, no, maybe\)/);
  });

  it('accuracy and the confusion matrix (rows: right answer, columns: predicted)', () => {
    const r = evaluationReport(['pos', 'neg'], [
      { gold: 'pos', predicted: 'pos' },
      { gold: 'pos', predicted: 'neg' },
      { gold: 'neg', predicted: 'neg' },
      { gold: 'neg', predicted: 'neg' },
    ]);
    expect(r).toEqual({ n: 4, correct: 3, labels: ['pos', 'neg'], confusion: [[1, 1], [0, 2]] });
    expect(evaluationReport([], [{ gold: 'cow', predicted: 'cat' }, { gold: 'dog', predicted: 'dog' }])).toEqual({ n: 2, correct: 1, labels: [], confusion: [] });
  });
});
