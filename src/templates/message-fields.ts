/**
 * A chat message as a template's query: how <gpt-chat> in template mode reads the fields out of
 * what the user typed.
 */
import { GptError } from '../errors.ts';
import type { FewShotTemplate } from './schema.ts';

/**
 * The query fields of `template` in `text`:
 * - one field: the whole message;
 * - several: one `name: value` line per field ("premise: ..." / "hypothesis: ..."), or the values
 *   in field order, one per line or separated by tabs (a row pasted from a spreadsheet).
 * Throws GptError('bad-argument') saying which fields to write when neither form matches.
 */
export function fieldsFromMessage(template: FewShotTemplate, text: string): Record<string, string> {
  const fields = template.fields;
  const body = text.trim();
  if (fields.length === 1) return { [fields[0]!]: body };

  const named: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$/.exec(line);
    const field = m && fields.find((f) => f.toLowerCase() === m[1]!.toLowerCase());
    if (field) named[field] = m[2]!.trim();
  }
  if (fields.every((f) => named[f] !== undefined)) return named;

  const parts = (body.includes('\t') ? body.split('\t') : body.split('\n')).map((p) => p.trim());
  if (parts.length === fields.length) return Object.fromEntries(fields.map((f, i) => [f, parts[i]!]));

  const missing = fields.filter((f) => named[f] === undefined);
  throw new GptError(
    'bad-argument',
    `The template "${template.name}" needs ${fields.join(', ')}${Object.keys(named).length ? `; missing ${missing.join(', ')}` : ''}. ` +
      `HINT: write one line per field, e.g. "${fields[0]}: ..." then "${fields[1]}: ...", or the ${fields.length} values on ${fields.length} lines.`,
  );
}
