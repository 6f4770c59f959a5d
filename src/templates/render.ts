/**
 * Rendering a template into prompt text: instruction, k examples, the query, joined by the
 * separator (see schema.ts for the layout). Pure string functions; token counting is passed in,
 * so the same code fits prompts to a context window in the worker and previews them in the editor.
 */
import { GptError } from '../errors.ts';
import type { FewShotTemplate, TemplateExample } from './schema.ts';
import { fillSlots, labelSlot } from './slots.ts';

/**
 * The answer line split where the prompt stops: `stem` ends the query ("Sentiment:") and `lead`,
 * the whitespace before {{answer}} (" "), starts every scored continuation (" positive"), as the
 * model saw " positive" as one word in training.
 */
export function answerParts(template: FewShotTemplate): { stem: string; lead: string } {
  const prefix = template.answer.replace(/\{\{\s*answer\s*\}\}$/, '');
  const stem = prefix.replace(/\s+$/, '');
  return { stem, lead: prefix.slice(stem.length) };
}

/** The instruction with {{label1}} .. filled by the labels' texts ('' when there is none). */
export function renderInstruction(template: FewShotTemplate): string {
  const values: Record<string, string> = {};
  template.labels.forEach((l, i) => (values[labelSlot(i + 1)] = l.text));
  return fillSlots(template.instruction, values);
}

/** What the model writes for `answer`: a label's text (classification) or the answer itself. */
function answerText(template: FewShotTemplate, answer: string): string {
  if (template.task !== 'classification') return answer;
  const label = template.labels.find((l) => l.name === answer);
  if (!label) throw new GptError('bad-template', `template "${template.id}": the answer "${answer}" is not one of its labels.`);
  return label.text;
}

/** One solved example: pattern and answer line filled, e.g. "Review: ...\nSentiment: positive". */
export function renderExample(template: FewShotTemplate, example: TemplateExample): string {
  const prefix = template.answer.replace(/\{\{\s*answer\s*\}\}$/, '');
  return fillSlots(template.pattern, example.fields) + prefix + answerText(template, example.answer);
}

/** The query: pattern filled, answer line up to its stem, e.g. "Review: ...\nSentiment:". */
export function renderQuery(template: FewShotTemplate, fields: Readonly<Record<string, string>>): string {
  return fillSlots(template.pattern, fields) + answerParts(template).stem;
}

/**
 * The whole prompt up to the answer stem. Zero-shot when `examples` is empty; an empty
 * instruction is left out rather than leaving a blank separator at the top.
 */
export function renderPrompt(template: FewShotTemplate, fields: Readonly<Record<string, string>>, examples: readonly TemplateExample[] = template.examples): string {
  const instruction = renderInstruction(template);
  const parts = instruction ? [instruction] : [];
  for (const e of examples) parts.push(renderExample(template, e));
  parts.push(renderQuery(template, fields));
  return parts.join(template.separator);
}

/**
 * The candidate answers as the model should write them, without the lead: label texts
 * (classification) or the query's option texts (multiple choice). Empty for generation.
 */
export function candidateTexts(template: FewShotTemplate, fields: Readonly<Record<string, string>>): string[] {
  if (template.task === 'classification') return template.labels.map((l) => l.text);
  if (template.task === 'multiple-choice') return template.options.map((o) => fields[o]!);
  return [];
}

/** A prompt that fits, and which examples were left out for it. */
export interface FittedPrompt {
  readonly text: string;
  /** Its token count (as `countTokens` measured it). */
  readonly tokens: number;
  /** Indices into the template's examples left out to fit, oldest (first) first (not those `k` excluded). */
  readonly dropped: readonly number[];
  /** Indices of the examples in the prompt. */
  readonly kept: readonly number[];
}

/**
 * Renders the prompt with as many examples as fit `budget` tokens, dropping the oldest (the first
 * in the list) first: the examples nearest the query are the ones the model imitates most (Zhao
 * et al. 2021, recency bias), so they are the last to go. `k` caps the examples used (the last k).
 * Throws GptError('context-overflow') when even the zero-shot prompt does not fit.
 */
export function fitPrompt(
  template: FewShotTemplate,
  fields: Readonly<Record<string, string>>,
  countTokens: (text: string) => number,
  budget: number,
  k: number = template.examples.length,
): FittedPrompt {
  const n = template.examples.length;
  const start = Math.max(0, n - Math.max(0, Math.floor(k)));
  for (let first = start; first <= n; first++) {
    const text = renderPrompt(template, fields, template.examples.slice(first));
    const tokens = countTokens(text);
    if (tokens <= budget) return { text, tokens, dropped: range(start, first), kept: range(first, n) };
    if (first === n) {
      throw new GptError(
        'context-overflow',
        `template "${template.id}": the query alone takes ${tokens} tokens, but only ${budget} fit the context window with room for the answer. HINT: shorten the input or the instruction, or load the model with a larger context.`,
      );
    }
  }
  throw new Error('unreachable');
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}
