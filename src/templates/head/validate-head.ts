/**
 * Validation of a task head from untrusted JSON (an imported template file, IndexedDB, a worker
 * message): every number finite, every shape consistent, or GptError('bad-head') naming the field.
 * Whether it fits a template and a model is checked where it is applied (apply-head.ts).
 */
import { GptError } from '../../errors.ts';
import { featureWidth, HEAD_VERSION, type FeatureRecipe, type HeadValidation, type TaskHead } from './head-schema.ts';

const KEYS = new Set(['version', 'task', 'model', 'recipe', 'labels', 'weights', 'bias', 'validation', 'trainedAt']);

/** Checks `value` as a head of `template task` and returns a clean copy. `at` names it in messages. */
export function validateHead(value: unknown, at = 'head'): TaskHead {
  const o = object(value, at, 'a trained head (train one in the template editor, or remove "head")');
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw bad(at, k, 'is not a head field', `the fields are ${[...KEYS].join(', ')}.`);
  if (o['version'] !== HEAD_VERSION) throw bad(at, 'version', `is ${JSON.stringify(o['version'])}; this version of gpt-chat reads head version ${HEAD_VERSION}`, 'train the head again with this version.');
  const task = o['task'];
  if (task !== 'classification' && task !== 'multiple-choice') throw bad(at, 'task', `is ${JSON.stringify(task)}`, 'use "classification" or "multiple-choice".');

  const m = object(o['model'], `${at}.model`, '{"url", "weightsHash", "C"}');
  const url = string(m['url'], `${at}.model.url`);
  const weightsHash = string(m['weightsHash'], `${at}.model.weightsHash`);
  if (!/^[0-9a-f]{16}$/.test(weightsHash)) throw bad(`${at}.model`, 'weightsHash', `is ${JSON.stringify(weightsHash)}, not 16 hex digits`, 'train the head again: the hash comes from the loaded model.');
  const C = m['C'];
  if (!(Number.isInteger(C) && (C as number) > 0)) throw bad(`${at}.model`, 'C', `is ${JSON.stringify(C)}`, 'the hidden size of the model, a positive integer.');

  const recipe = recipeOf(o['recipe'], `${at}.recipe`);
  if (recipe.likelihood && task !== 'multiple-choice') throw bad(`${at}.recipe`, 'likelihood', 'is set for a classification head', 'only multiple-choice heads take the likelihood features.');
  const W = featureWidth(C as number, recipe);
  const labels = o['labels'];
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l.trim())) throw bad(at, 'labels', 'must be a list of label names', 'a classification head names its labels; a multiple-choice head has [].');
  if (new Set(labels).size !== labels.length) throw bad(at, 'labels', 'repeats a label', 'each label once.');
  if (task === 'classification' && labels.length < 2) throw bad(at, 'labels', `has ${labels.length} label(s)`, 'a classification head tells at least two labels apart.');
  if (task === 'multiple-choice' && labels.length !== 0) throw bad(at, 'labels', 'is set for a multiple-choice head', 'use [].');
  const R = task === 'classification' ? labels.length : 1;

  const weights = o['weights'];
  if (!Array.isArray(weights) || weights.length !== R) throw bad(at, 'weights', `must be ${R} row(s) of ${W} numbers, found ${Array.isArray(weights) ? `${weights.length} row(s)` : typeof weights}`, 'train the head again.');
  const rows = weights.map((row, r) => numbers(row, W, `${at}.weights[${r}]`));
  const bias = numbers(o['bias'], R, `${at}.bias`);
  const validation = validationOf(o['validation'], `${at}.validation`, R, task);
  const trainedAt = string(o['trainedAt'], `${at}.trainedAt`);
  return { version: HEAD_VERSION, task, model: { url, weightsHash, C: C as number }, recipe, labels: [...labels], weights: rows, bias, validation, trainedAt };
}

function recipeOf(value: unknown, at: string): FeatureRecipe {
  const r = object(value, at, '{"context": "zero-shot" | "few-shot"}');
  for (const k of Object.keys(r)) if (!['context', 'symmetric', 'likelihood'].includes(k)) throw bad(at, k, 'is not a recipe field', 'a recipe has "context", "symmetric" (similarity) and "likelihood" (multiple choice).');
  const context = r['context'];
  if (context !== 'zero-shot' && context !== 'few-shot') throw bad(at, 'context', `is ${JSON.stringify(context)}`, 'use "zero-shot" or "few-shot".');
  const likelihood = r['likelihood'];
  if (likelihood !== undefined && typeof likelihood !== 'boolean') throw bad(at, 'likelihood', `is ${JSON.stringify(likelihood)}`, 'true or false.');
  const s = r['symmetric'];
  if (s !== undefined && (!Array.isArray(s) || s.length !== 2 || !s.every((f) => typeof f === 'string') || s[0] === s[1])) throw bad(at, 'symmetric', `is ${JSON.stringify(s)}`, 'name two different fields, e.g. ["a", "b"].');
  return { context, ...(s ? { symmetric: [s[0], s[1]] as const } : {}), ...(likelihood ? { likelihood } : {}) };
}

function validationOf(value: unknown, at: string, R: number, task: string): HeadValidation {
  const v = object(value, at, '{"accuracy", "folds", "rows", "lambda", "confusion"}');
  const accuracy = v['accuracy'];
  if (typeof accuracy !== 'number' || !(accuracy >= 0 && accuracy <= 1)) throw bad(at, 'accuracy', `is ${JSON.stringify(accuracy)}`, 'a fraction from 0 to 1.');
  const folds = v['folds'];
  const rows = v['rows'];
  if (!Number.isInteger(folds) || !Number.isInteger(rows)) throw bad(at, 'folds', 'and "rows" must be integers', 'train the head again.');
  const lambda = v['lambda'];
  if (typeof lambda !== 'number' || !(lambda > 0)) throw bad(at, 'lambda', `is ${JSON.stringify(lambda)}`, 'a positive number.');
  const confusion = v['confusion'];
  if (!Array.isArray(confusion) || (task === 'classification' && confusion.length !== R)) throw bad(at, 'confusion', 'must be a square list of counts', 'train the head again.');
  const n = confusion.length;
  const matrix = confusion.map((row, i) => numbers(row, n, `${at}.confusion[${i}]`));
  return { accuracy, folds: folds as number, rows: rows as number, lambda, confusion: matrix };
}

function numbers(value: unknown, n: number, at: string): number[] {
  if (!Array.isArray(value) || value.length !== n) throw new GptError('bad-head', `${at} must be a list of ${n} numbers, found ${Array.isArray(value) ? `${value.length} entries` : typeof value}. HINT: train the head again.`);
  value.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new GptError('bad-head', `${at}[${i}] is ${JSON.stringify(x)}, not a finite number. HINT: train the head again.`);
  });
  return [...(value as number[])];
}

function object(value: unknown, at: string, expected: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new GptError('bad-head', `${at} must be an object: ${expected}. Found ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}.`);
  return value as Record<string, unknown>;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new GptError('bad-head', `${at} must be a string, found ${typeof value}. HINT: train the head again.`);
  return value;
}

function bad(at: string, field: string, problem: string, hint: string): GptError {
  return new GptError('bad-head', `${at}: "${field}" ${problem}. HINT: ${hint}`);
}
