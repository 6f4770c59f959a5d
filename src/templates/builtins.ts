/**
 * The built-in templates, one per task type of the GPT papers: sentiment and topic
 * (classification), entailment (premise and hypothesis), similarity (two sentences) and multiple
 * choice (a question and four options). Instructions, patterns and answer lines are those of
 * tools/demo-model/fewshot.py, which the bundled demo model was trained on: the rendered prompts
 * are byte-identical (test/templates/templates.test.ts checks them against the model's eval items).
 */
import { TEMPLATE_VERSION, type FewShotTemplate, type TemplateLabel } from './schema.ts';
import { validateTemplate } from './validate.ts';

const labels = (...names: string[]): TemplateLabel[] => names.map((n) => ({ name: n, text: n }));
const base = { version: TEMPLATE_VERSION, separator: '\n\n', contentFree: ['N/A'], labels: [], options: [] } as const;

const RAW: readonly FewShotTemplate[] = [
  {
    ...base,
    id: 'sentiment',
    name: 'Sentiment',
    task: 'classification',
    instruction: 'Classify each review as {{label1}} or {{label2}}.',
    fields: ['text'],
    pattern: 'Review: {{text}}\n',
    answer: 'Sentiment: {{answer}}',
    labels: labels('positive', 'negative'),
    examples: [
      { fields: { text: 'The pizza was delicious.' }, answer: 'positive' },
      { fields: { text: 'The room was dirty and the staff was rude.' }, answer: 'negative' },
      { fields: { text: 'Such a charming hotel! Highly recommended.' }, answer: 'positive' },
      { fields: { text: 'I thought the movie was boring. Never again.' }, answer: 'negative' },
    ],
  },
  {
    ...base,
    id: 'topic',
    name: 'Topic',
    task: 'classification',
    instruction: 'Classify each headline by topic: {{label1}}, {{label2}}, {{label3}} or {{label4}}.',
    fields: ['text'],
    pattern: 'Headline: {{text}}\n',
    answer: 'Topic: {{answer}}',
    labels: labels('sports', 'science', 'business', 'food'),
    examples: [
      { fields: { text: 'The home team will win the final' }, answer: 'sports' },
      { fields: { text: 'Researchers find water on Mars' }, answer: 'science' },
      { fields: { text: 'The company will report record profits' }, answer: 'business' },
      { fields: { text: 'A new bakery shares a secret bread recipe' }, answer: 'food' },
    ],
  },
  {
    ...base,
    id: 'entailment',
    name: 'Entailment',
    task: 'classification',
    instruction: 'Does the premise imply the hypothesis? Answer yes, no or maybe.',
    fields: ['premise', 'hypothesis'],
    pattern: 'Premise: {{premise}}\nHypothesis: {{hypothesis}}\n',
    answer: 'Answer: {{answer}}',
    labels: labels('yes', 'no', 'maybe'),
    examples: [
      { fields: { premise: 'The boy is swimming in the pool.', hypothesis: 'Someone is swimming.' }, answer: 'yes' },
      { fields: { premise: 'A woman is cooking dinner in the kitchen.', hypothesis: 'The kitchen is empty.' }, answer: 'no' },
      { fields: { premise: 'The teacher is reading a book in the library.', hypothesis: 'The teacher is tired.' }, answer: 'maybe' },
    ],
  },
  {
    ...base,
    id: 'similarity',
    name: 'Similarity',
    task: 'classification',
    instruction: 'Do the two sentences mean the same thing? Answer same or different.',
    fields: ['a', 'b'],
    pattern: 'Sentence 1: {{a}}\nSentence 2: {{b}}\n',
    answer: 'Answer: {{answer}}',
    labels: labels('same', 'different'),
    examples: [
      { fields: { a: 'My brother bought the car.', b: 'My brother purchased the automobile.' }, answer: 'same' },
      { fields: { a: 'The doctor fixed the window.', b: 'Our team fixed the window.' }, answer: 'different' },
    ],
  },
  {
    ...base,
    id: 'multiple-choice',
    name: 'Multiple choice',
    task: 'multiple-choice',
    instruction: 'Answer each question with one of the options.',
    fields: ['question', 'a', 'b', 'c', 'd'],
    pattern: 'Question: {{question}}\nOptions: {{a}}, {{b}}, {{c}}, {{d}}\n',
    answer: 'Answer: {{answer}}',
    options: ['a', 'b', 'c', 'd'],
    examples: [
      { fields: { question: 'Which animal says moo?', a: 'cat', b: 'cow', c: 'owl', d: 'dog' }, answer: 'cow' },
      { fields: { question: 'What is the opposite of hot?', a: 'big', b: 'late', c: 'cold', d: 'wet' }, answer: 'cold' },
      { fields: { question: 'Which of these is a fruit?', a: 'hammer', b: 'Japan', c: 'bus', d: 'mango' }, answer: 'mango' },
    ],
  },
];

/** The built-in templates (validated once, at first use of this module). */
export const BUILTIN_TEMPLATES: readonly FewShotTemplate[] = RAW.map((t) => validateTemplate(t, `built-in template "${t.id}"`));

/** The built-in template `id`, or undefined. */
export function builtinTemplate(id: string): FewShotTemplate | undefined {
  return BUILTIN_TEMPLATES.find((t) => t.id === id);
}
