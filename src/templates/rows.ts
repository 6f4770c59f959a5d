/**
 * Examples and held-out items as tab-separated rows (pasted from a spreadsheet), and the
 * accuracy / confusion matrix of an evaluation over them. Pure functions for the editor.
 */
import { GptError } from '../errors.ts';
import type { FewShotTemplate, TemplateExample } from './schema.ts';
import { checkExample } from './validate.ts';

/**
 * One example per non-empty line: the template's fields in order, then the answer, separated by
 * tabs (pasted from a spreadsheet; `cells` splits lines otherwise, as labelled-rows.ts does for
 * CSV). Throws GptError('bad-template') naming the first bad row; with `nonEmpty` (training rows)
 * an empty field is one too.
 */
export function parseExampleRows(
  template: FewShotTemplate,
  text: string,
  options: { readonly nonEmpty?: boolean; readonly cells?: (line: string) => string[]; readonly separatedBy?: string } = {},
): TemplateExample[] {
  const columns = [...template.fields, 'answer'];
  const split = options.cells ?? ((line: string) => line.split('\t'));
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line, i) => {
      const cells = split(line).map((c) => c.trim());
      if (cells.length !== columns.length) {
        throw new GptError('bad-template', `Row ${i + 1} has ${cells.length} cell${cells.length === 1 ? '' : 's'}; expected ${columns.length} (${columns.join(', ')}), separated by ${options.separatedBy ?? 'tabs'}.`);
      }
      const fields = Object.fromEntries(template.fields.map((f, j) => [f, cells[j]!]));
      const empty = options.nonEmpty && template.fields.find((f) => !fields[f]);
      if (empty) throw new GptError('bad-template', `Row ${i + 1}: the field "${empty}" is empty. HINT: fill it or leave the row out.`);
      return checkExample(template, { fields, answer: cells[columns.length - 1]! }, `Row ${i + 1}`);
    });
}

/** Accuracy over held-out items and, for classification, counts[gold][predicted]. */
export interface EvaluationReport {
  readonly n: number;
  readonly correct: number;
  /** The label names (rows and columns of `confusion`); empty for multiple choice. */
  readonly labels: readonly string[];
  readonly confusion: readonly (readonly number[])[];
}

/** The report of `pairs` (right answer, predicted answer) over `labels` ([] for multiple choice). */
export function evaluationReport(labels: readonly string[], pairs: readonly { readonly gold: string; readonly predicted: string }[]): EvaluationReport {
  const confusion = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (const { gold, predicted } of pairs) {
    correct += Number(gold === predicted);
    const g = labels.indexOf(gold);
    const p = labels.indexOf(predicted);
    if (g >= 0 && p >= 0) confusion[g]![p]!++;
  }
  return { n: pairs.length, correct, labels, confusion };
}
