/**
 * Validation of few-shot templates: untrusted JSON (an imported file, IndexedDB, a worker message)
 * in, a {@link FewShotTemplate} with defaults filled out, or GptError('bad-template') whose message
 * names the template, the field and what was expected, with a hint. Errors are found in reading
 * order and the first one is reported, so fixing them one by one converges.
 */
import { GptError } from '../errors.ts';
import {
  TEMPLATE_VERSION,
  type FewShotTemplate,
  type TaskKind,
  type TemplateExample,
  type TemplateLabel,
} from './schema.ts';
import { FIELD_NAME, isLabelSlot, labelSlot, slotNames } from './slots.ts';
import { validateHead } from './head/validate-head.ts';

const TASKS: readonly TaskKind[] = ['classification', 'multiple-choice', 'generation'];
const KEYS = new Set(['version', 'id', 'name', 'task', 'instruction', 'fields', 'pattern', 'answer', 'labels', 'options', 'examples', 'separator', 'contentFree', 'head']);
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Parses the text of a template file (import, paste). Syntax errors are GptError('bad-json')
 * naming `file`; everything else is {@link validateTemplate}'s.
 */
export function parseTemplateJson(text: string, file = 'template.json'): FewShotTemplate {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new GptError('bad-json', `${file} is not valid JSON (${reason}). HINT: export a template from the editor to see the expected form.`);
  }
  return validateTemplate(value, file);
}

/**
 * Checks `value` against the format of version {@link TEMPLATE_VERSION} and returns it as a
 * template with defaults filled in (separator "\n\n", contentFree ["N/A"], empty labels, options
 * and examples). `where` names the source in messages (a file name; default the template's id).
 */
export function validateTemplate(value: unknown, where?: string): FewShotTemplate {
  if (!isObject(value)) throw bad(where ?? 'template', '', `must be a JSON object, found ${kind(value)}`, 'start from a built-in template (export one from the editor).');
  const rawId = value['id'];
  const at = where ?? (typeof rawId === 'string' && rawId ? `template "${rawId}"` : 'template');

  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) throw bad(at, key, 'is not a template field', `the fields are ${[...KEYS].join(', ')}; check the spelling.`);
  }
  if (value['version'] !== TEMPLATE_VERSION) {
    const found = value['version'] === undefined ? 'is missing' : `is ${JSON.stringify(value['version'])}`;
    throw bad(at, 'version', `${found}; this version of gpt-chat reads version ${TEMPLATE_VERSION}`, `set "version": ${TEMPLATE_VERSION} (a newer file needs a newer gpt-chat).`);
  }
  const id = str(value, 'id', at);
  if (!ID.test(id)) throw bad(at, 'id', `is ${JSON.stringify(id)}; use letters, digits, "-" and "_", starting with a letter or digit`, 'for example "movie-sentiment".');
  const name = str(value, 'name', at);
  if (!name.trim()) throw bad(at, 'name', 'is empty', 'give the template a name people will recognise.');
  const task = value['task'];
  if (typeof task !== 'string' || !TASKS.includes(task as TaskKind)) {
    throw bad(at, 'task', `is ${JSON.stringify(task)}`, `use one of ${TASKS.map((t) => `"${t}"`).join(', ')}.`);
  }
  const instruction = value['instruction'] === undefined ? '' : str(value, 'instruction', at);
  const fields = fieldList(value['fields'], at);
  const pattern = str(value, 'pattern', at);
  const answer = str(value, 'answer', at);
  const separator = value['separator'] === undefined ? '\n\n' : str(value, 'separator', at);
  if (!separator) throw bad(at, 'separator', 'is empty', 'use "\\n\\n" (a blank line) between examples.');
  const contentFree = value['contentFree'] === undefined ? ['N/A'] : stringList(value['contentFree'], 'contentFree', at);
  if (contentFree.length === 0) throw bad(at, 'contentFree', 'is empty', 'leave it out for the default ["N/A"].');

  const labels = task === 'classification' ? labelList(value['labels'], at) : none(value, 'labels', at, task);
  const options = task === 'multiple-choice' ? optionList(value['options'], fields, at) : none(value, 'options', at, task);

  // slots: the pattern uses fields, the answer line ends in {{answer}}, the instruction names labels
  for (const slot of slotNames(pattern)) {
    if (!fields.includes(slot)) throw bad(at, 'pattern', `has the unknown placeholder {{${slot}}}`, `the fields are ${fields.join(', ')}; add "${slot}" to "fields" or fix the placeholder.`);
  }
  for (const f of fields) {
    if (!slotNames(pattern).includes(f)) throw bad(at, 'pattern', `never uses the field "${f}"`, `add {{${f}}} to the pattern or remove "${f}" from "fields".`);
  }
  const answerSlots = slotNames(answer);
  for (const slot of answerSlots) {
    if (slot !== 'answer') throw bad(at, 'answer', `has the unknown placeholder {{${slot}}}`, 'the answer line holds only {{answer}}, e.g. "Sentiment: {{answer}}".');
  }
  if (answerSlots.length !== 1 || !/\{\{\s*answer\s*\}\}$/.test(answer)) {
    throw bad(at, 'answer', `is ${JSON.stringify(answer)}; it must end with one {{answer}}`, 'for example "Answer: {{answer}}": the model is scored on what replaces {{answer}}.');
  }
  for (const slot of slotNames(instruction)) {
    if (!isLabelSlot(slot)) throw bad(at, 'instruction', `has the unknown placeholder {{${slot}}}`, 'the instruction may only name labels, as {{label1}}, {{label2}} ...');
    const n = Number(slot.slice('label'.length));
    if (n > labels.length) {
      throw bad(at, 'instruction', `uses {{${slot}}} but the template has ${labels.length} label${labels.length === 1 ? '' : 's'}`, labels.length ? `use {{${labelSlot(1)}}} .. {{${labelSlot(labels.length)}}}.` : 'only classification templates have labels.');
    }
  }

  const template: FewShotTemplate = { version: TEMPLATE_VERSION, id, name, task: task as TaskKind, instruction, fields, pattern, answer, labels, options, examples: [], separator, contentFree };
  const rawExamples = value['examples'] === undefined ? [] : value['examples'];
  if (!Array.isArray(rawExamples)) throw bad(at, 'examples', `must be a list, found ${kind(rawExamples)}`, 'use [] for a zero-shot template.');
  const examples = rawExamples.map((e, i) => checkExample(template, e, `${at}: examples[${i}]`));
  if (value['head'] === undefined) return { ...template, examples };
  const head = validateHead(value['head'], `${at}: head`);
  if (head.task !== task) throw new GptError('bad-head', `${at}: the head was trained for ${head.task}, but the template is ${task}. HINT: train the head again, or remove "head".`);
  return { ...template, examples, head };
}

/**
 * Checks one example or held-out item of `template` and returns a clean copy. `where` names it
 * in messages (e.g. `template "x": examples[3]`).
 */
export function checkExample(template: FewShotTemplate, value: unknown, where: string): TemplateExample {
  if (!isObject(value)) throw new GptError('bad-template', `${where} must be an object {"fields": {...}, "answer": "..."}, found ${kind(value)}.`);
  const fields = checkFields(template, value['fields'], where);
  const answer = value['answer'];
  if (typeof answer !== 'string' || !answer) {
    throw new GptError('bad-template', `${where} has no "answer" (found ${kind(answer)}). HINT: give the right answer as a string.`);
  }
  if (template.task === 'classification' && !template.labels.some((l) => l.name === answer)) {
    throw new GptError(
      'bad-template',
      `${where} has the answer "${answer}", which is not one of the labels (${template.labels.map((l) => l.name).join(', ')}). HINT: add the label or fix the answer.`,
    );
  }
  if (template.task === 'multiple-choice' && !template.options.some((o) => fields[o] === answer)) {
    throw new GptError(
      'bad-template',
      `${where} has the answer "${answer}", which is not one of its options (${template.options.map((o) => JSON.stringify(fields[o])).join(', ')}). HINT: the answer is the text of the right option.`,
    );
  }
  return { fields, answer };
}

/**
 * Checks the input of one query: a string for every field of `template`, no others. Multiple
 * choice: the options must be non-empty and distinct (a repeated option could not be told apart).
 */
export function checkFields(template: FewShotTemplate, value: unknown, where: string): Record<string, string> {
  if (!isObject(value)) throw new GptError('bad-template', `${where}: "fields" must be an object with ${template.fields.map((f) => `"${f}"`).join(', ')}, found ${kind(value)}.`);
  const out: Record<string, string> = {};
  for (const f of template.fields) {
    const v = value[f];
    if (typeof v !== 'string') {
      throw new GptError('bad-template', `${where} is missing the field "${f}"${v === undefined ? '' : ` (found ${kind(v)})`}. HINT: every example and query needs ${template.fields.map((x) => `"${x}"`).join(', ')}.`);
    }
    out[f] = v;
  }
  for (const k of Object.keys(value)) {
    if (!template.fields.includes(k)) throw new GptError('bad-template', `${where} has the field "${k}", which the template does not declare (it has ${template.fields.join(', ')}). HINT: add it to "fields" or remove it.`);
  }
  if (template.task === 'multiple-choice') {
    const seen = new Set<string>();
    for (const o of template.options) {
      if (!out[o]!.trim()) throw new GptError('bad-template', `${where}: the option field "${o}" is empty. HINT: every option needs text.`);
      if (seen.has(out[o]!)) throw new GptError('bad-template', `${where}: the option "${out[o]}" appears twice. HINT: options must differ to be told apart.`);
      seen.add(out[o]!);
    }
  }
  return out;
}

function bad(at: string, field: string, problem: string, hint: string): GptError {
  return new GptError('bad-template', `${at}: ${field ? `"${field}" ` : ''}${problem}. HINT: ${hint}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v)}`;
  return `a ${typeof v}`;
}

function str(o: Record<string, unknown>, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(at, key, `must be a string, found ${kind(v)}`, `set "${key}".`);
  return v;
}

function stringList(v: unknown, key: string, at: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(at, key, `must be a list of strings, found ${kind(v)}`, `for example ["a", "b"].`);
  return [...v];
}

function fieldList(v: unknown, at: string): string[] {
  const fields = stringList(v, 'fields', at);
  if (fields.length === 0) throw bad(at, 'fields', 'is empty', 'name at least one input field, e.g. ["text"].');
  const seen = new Set<string>();
  for (const f of fields) {
    if (!FIELD_NAME.test(f)) throw bad(at, 'fields', `has the name ${JSON.stringify(f)}`, 'field names are letters, digits and "_", not starting with a digit.');
    if (f === 'answer' || isLabelSlot(f)) throw bad(at, 'fields', `has the reserved name "${f}"`, 'rename it: "answer" and "label1", "label2" ... are slots of their own.');
    if (seen.has(f)) throw bad(at, 'fields', `names "${f}" twice`, 'each field once.');
    seen.add(f);
  }
  return fields;
}

function labelList(v: unknown, at: string): TemplateLabel[] {
  if (!Array.isArray(v)) throw bad(at, 'labels', `must be a list of {"name", "text"}, found ${kind(v)}`, 'a classification template needs its classes.');
  if (v.length < 2) throw bad(at, 'labels', `has ${v.length} label${v.length === 1 ? '' : 's'}`, 'a classification needs at least two.');
  const names = new Set<string>();
  const texts = new Set<string>();
  return v.map((l, i) => {
    if (!isObject(l)) throw bad(at, `labels[${i}]`, `must be {"name": ..., "text": ...}, found ${kind(l)}`, 'give each label a name and the text the model should write.');
    const name = l['name'];
    const text = l['text'];
    if (typeof name !== 'string' || !name.trim()) throw bad(at, `labels[${i}].name`, `is empty or missing (found ${kind(name)})`, 'give each label a name.');
    if (typeof text !== 'string' || !text.trim()) throw bad(at, `labels[${i}].text`, `is empty or missing (found ${kind(text)})`, `give "${name}" the text the model should write, e.g. "${name.toLowerCase()}".`);
    if (names.has(name)) throw bad(at, `labels[${i}].name`, `repeats "${name}"`, 'label names must differ.');
    if (texts.has(text)) throw bad(at, `labels[${i}].text`, `repeats "${text}"`, 'two labels with the same text always get the same score; make them differ.');
    for (const k of Object.keys(l)) if (k !== 'name' && k !== 'text') throw bad(at, `labels[${i}]`, `has the unknown key "${k}"`, 'a label has only "name" and "text".');
    names.add(name);
    texts.add(text);
    return { name, text };
  });
}

function optionList(v: unknown, fields: readonly string[], at: string): string[] {
  const options = stringList(v, 'options', at);
  if (options.length < 2) throw bad(at, 'options', `names ${options.length} field${options.length === 1 ? '' : 's'}`, 'a multiple-choice template names at least two option fields, e.g. ["a", "b", "c", "d"].');
  const seen = new Set<string>();
  for (const o of options) {
    if (!fields.includes(o)) throw bad(at, 'options', `names "${o}", which is not a field`, `options are fields that hold the choices; the fields are ${fields.join(', ')}.`);
    if (seen.has(o)) throw bad(at, 'options', `names "${o}" twice`, 'each option field once.');
    seen.add(o);
  }
  return options;
}

function none(o: Record<string, unknown>, key: 'labels' | 'options', at: string, task: string): [] {
  const v = o[key];
  if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
    throw bad(at, key, `is set, but a ${task} template has no ${key}`, key === 'labels' ? 'use "task": "classification", or remove "labels".' : 'use "task": "multiple-choice", or remove "options".');
  }
  return [];
}
