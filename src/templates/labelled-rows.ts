/**
 * Labelled rows pasted to train a task head: tab-separated (from a spreadsheet) or, when no line
 * has a tab, CSV (a cell in double quotes may hold commas, "" is a quote). Every field must be
 * filled. Throws GptError('bad-template') naming the first bad row.
 */
import type { FewShotTemplate, TemplateExample } from './schema.ts';
import { parseExampleRows } from './rows.ts';

export function parseLabelledRows(template: FewShotTemplate, text: string): TemplateExample[] {
  const tabs = text.includes('\t');
  return parseExampleRows(template, text, { nonEmpty: true, ...(tabs ? {} : { cells: csvCells, separatedBy: 'commas' }) });
}

/** The cells of one CSV line (RFC 4180 quoting, within a line). */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && !cell.trim()) quoted = true;
    else if (c === ',') cells.push(cell), (cell = '');
    else cell += c;
  }
  cells.push(cell);
  return cells;
}
